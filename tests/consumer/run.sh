#!/usr/bin/env bash
# Builds and runs the downstream consumers against an installed larder:
#
#   tests/consumer/run.sh PREFIX WORKDIR redis|no-redis
#
# - find_package(larder CONFIG) without components: larder::larder only;
# - redis:    find_package(larder COMPONENTS redis) and larder::redis;
#   no-redis: find_package(larder COMPONENTS redis) must fail, naming the missing component;
# - pkg-config larder (and larder-redis, or its absence with no-redis).
# CXX picks the compiler (default c++); CMAKE_GENERATOR the generator (default Ninja).
# Prints "consumers: all passed" at the end, exits non-zero at the first failure.
set -euo pipefail
[ $# -eq 3 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
prefix=$(cd "$1" && pwd)
work=$2
redis=$3
case "$redis" in redis | no-redis) ;; *) echo "run.sh: third argument is redis or no-redis" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
cxx=${CXX:-c++}
gen=${CMAKE_GENERATOR:-Ninja}
mkdir -p "$work"

# find_package PROJECT_BUILD_DIR WITH_REDIS(ON|OFF): configure, build; prints the configure log.
find_package_build() {
  cmake -S "$here/find_package" -B "$1" -G "$gen" --fresh -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_PREFIX_PATH="$prefix" -DLARDER_CONSUMER_REDIS="$2" >"$1.log" 2>&1 &&
    cmake --build "$1" >>"$1.log" 2>&1
}

echo "consumer: find_package(larder) without components"
find_package_build "$work/fp-core" OFF || { cat "$work/fp-core.log"; exit 1; }
"$work/fp-core/consumer"

if [ "$redis" = redis ]; then
  echo "consumer: find_package(larder COMPONENTS redis)"
  find_package_build "$work/fp-redis" ON || { cat "$work/fp-redis.log"; exit 1; }
  "$work/fp-redis/consumer"
  "$work/fp-redis/consumer_redis"
else
  echo "consumer: find_package(larder COMPONENTS redis) on an install without it must fail"
  if find_package_build "$work/fp-redis" ON; then
    echo "consumer: FAILED: the redis component was found in an install built without it" >&2
    exit 1
  fi
  grep -q "installed without the redis component" "$work/fp-redis.log" || {
    cat "$work/fp-redis.log"; echo "consumer: FAILED: no clear message" >&2; exit 1; }
  echo "consumer: refused as expected: $(grep -m1 -o 'larder was installed without[^.]*' "$work/fp-redis.log")"
fi

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
echo "consumer: pkg-config larder"
# shellcheck disable=SC2046  # pkg-config's output is a list of flags
"$cxx" -o "$work/pc_consumer" "$here/consumer.cpp" $(pkg-config --cflags --libs larder)
"$work/pc_consumer"
if [ "$redis" = redis ]; then
  echo "consumer: pkg-config larder-redis"
  # shellcheck disable=SC2046
  "$cxx" -o "$work/pc_consumer_redis" "$here/consumer_redis.cpp" \
    $(pkg-config --cflags --libs larder-redis)
  "$work/pc_consumer_redis"
elif pkg-config --exists larder-redis; then
  echo "consumer: FAILED: larder-redis.pc installed without the redis component" >&2
  exit 1
fi
echo "consumers: all passed"
