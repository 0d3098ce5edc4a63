// larder::MemoryBackend (memory_backend.h) against the Backend contract every backend passes
// (backend_contract.h; RedisBackend runs the same one in redis_test.cpp).
#include <larder/memory_backend.h>

#include <catch2/catch.hpp>

#include "backend_contract.h"

TEST_CASE("MemoryBackend passes the Backend contract", "[backend]") {
  larder::MemoryBackend b;
  larder_test::backend_contract(b);
}
