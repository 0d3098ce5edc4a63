#!/usr/bin/env bash
# Builds and runs every test suite, in a fresh copy of the repository's tracked files (a clean
# clone: no build trees, no untracked files, and nothing beside it):
#   1. the clang-format check;
#   2. the README's Quick start command (scripts/setup.sh && cmake --workflow --preset quickstart);
#   3. scripts/install.sh into a temporary prefix, with and without the Redis component, and the
#      downstream consumers (find_package with and without COMPONENTS redis, pkg-config) against
#      each installed prefix (tests/consumer/run.sh);
#   4. the workflow presets: dev (ASan+UBSan), tsan, the clang -Wthread-safety build, 60 s of
#      libFuzzer each on the frame decoder and the codecs (fuzz), and release (examples, consumer
#      tests, benchmark smoke runs).
# Each stage's heading says how long the run has taken so far.
# The run stops at the first failure and keeps its directory for a look; a passing run removes it.
# Run scripts/setup.sh first (the README's command does). Files you add must be `git add`ed first.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"

echo "== clang-format check"
git ls-files '*.h' '*.cc' '*.cpp' | xargs clang-format --dry-run -Werror
# catch_discover_tests hands names to CMake, which splits a name at ';' into two broken tests.
if git grep -nE 'TEST_CASE\("[^"]*;' -- tests; then
  echo "test-all: a Catch2 test name above contains ';' (ctest would split it)" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/larder-test-all.XXXXXX")
clone="$work/larder"
finish() {
  local rc=$?
  if [ "$rc" -eq 0 ]; then rm -rf "$work"; else echo "test-all: FAILED (rc $rc); kept $work" >&2; fi
}
trap finish EXIT
mkdir -p "$clone"
git ls-files -z | tar --null --ignore-failed-read -T - -cf - | tar -xf - -C "$clone"
echo "== clean copy of the tracked tree in $clone ($(git ls-files | wc -l) files)"
cd "$clone"

echo "== Quick start: ./scripts/setup.sh && cmake --workflow --preset quickstart"
./scripts/setup.sh && cmake --workflow --preset quickstart

echo "== install: ./scripts/install.sh --prefix $work/prefix (Redis component present; at ${SECONDS}s)"
./scripts/install.sh --with-redis --prefix "$work/prefix"
test -f "$work/prefix/include/larder/redis_backend.h"
tests/consumer/run.sh "$work/prefix" "$work/consumer" redis

echo "== install: ./scripts/install.sh --without-redis --prefix $work/prefix-core"
./scripts/install.sh --without-redis --prefix "$work/prefix-core"
test ! -e "$work/prefix-core/include/larder/redis_backend.h"
test ! -e "$work/prefix-core/lib/liblarder_redis.a"
tests/consumer/run.sh "$work/prefix-core" "$work/consumer-core" no-redis

for preset in dev tsan thread-safety fuzz release; do
  echo "== cmake --workflow --preset $preset (at ${SECONDS}s)"
  cmake --workflow --preset "$preset" --fresh
done
