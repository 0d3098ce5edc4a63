#!/usr/bin/env bash
# Builds and runs every test suite: formatting, dev (ASan+UBSan), tsan, the clang -Wthread-safety
# build, 60 s of libFuzzer on the frame decoder (fuzz), and release (examples, consumer tests,
# benchmark smoke runs). Each is one workflow preset;
# the run stops at the first failure. Run scripts/setup.sh first (the README's command does).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== clang-format check"
git ls-files '*.h' '*.cc' '*.cpp' | xargs clang-format --dry-run -Werror

for preset in dev tsan thread-safety fuzz release; do
  echo "== cmake --workflow --preset $preset"
  cmake --workflow --preset "$preset" --fresh
done
