#!/usr/bin/env bash
# Builds larder's libraries (Release) and installs them, with headers, the CMake package
# (find_package(larder)) and pkg-config files, into a prefix.
#
#   ./scripts/install.sh [--prefix DIR] [--with-redis | --without-redis]
#
#   --prefix DIR      where to install (default /usr/local); created if missing
#   --with-redis      also install hiredis (Debian package) and the larder::redis component
#   --without-redis   never build the Redis component, even when hiredis is present
#   (neither)         the Redis component is built when hiredis is already installed
#
# It first installs the Debian packages the library needs (scripts/setup.sh --library), then
# configures the `install` preset in build/install. Nothing is installed if the build fails.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }

prefix=/usr/local
redis=auto
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix)
      [ $# -ge 2 ] || { echo "install: --prefix needs a directory" >&2; exit 2; }
      prefix=$2; shift ;;
    --prefix=*) prefix=${1#--prefix=} ;;
    --with-redis) redis=on ;;
    --without-redis) redis=off ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[ -n "$prefix" ] || { echo "install: --prefix must not be empty" >&2; exit 2; }

if [ "$redis" = on ]; then
  ./scripts/setup.sh --library --with-redis
else
  ./scripts/setup.sh --library
fi
if [ "$redis" = auto ]; then
  if pkg-config --exists hiredis; then redis=on; else redis=off; fi
fi
with_redis=OFF
[ "$redis" = on ] && with_redis=ON
echo "install: larder into $prefix (Redis component: $with_redis)"

cmake --preset install --fresh -DLARDER_WITH_REDIS="$with_redis" >/dev/null
cmake --build --preset install
cmake --install build/install --prefix "$prefix"
echo "install: done; use it with find_package(larder CONFIG) or pkg-config larder" \
  "(add $prefix to CMAKE_PREFIX_PATH / $prefix/lib/pkgconfig to PKG_CONFIG_PATH if it is not" \
  "a system prefix)"
