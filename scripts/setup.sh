#!/usr/bin/env bash
# Installs the Debian packages larder needs to build, test and benchmark — only those missing.
# Idempotent; run as root or with sudo available.
set -euo pipefail

packages=(
  cmake ninja-build g++ clang pkg-config clang-format libclang-rt-14-dev
  libabsl-dev libxxhash-dev zlib1g-dev   # larder::larder
  libhiredis-dev redis-server redis-tools # larder::redis, its tests, redis-benchmark
  catch2                                 # tests
  libbenchmark-dev libtbb-dev libcuckoo-dev  # bench/ and its peers
  libcpp-httplib-dev curl prometheus      # examples/http_service, its e2e test, promtool
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
echo "setup: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
