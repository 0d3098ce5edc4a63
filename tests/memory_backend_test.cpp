// larder::MemoryBackend (memory_backend.h) against the Backend contract every backend passes
// (backend_contract.h; RedisBackend runs the same one in redis_test.cpp).
#include <larder/memory_backend.h>

#include <catch2/catch.hpp>

#include "backend_contract.h"

TEST_CASE("MemoryBackend passes the Backend contract", "[backend]") {
  larder::MemoryBackend b;
  larder_test::backend_contract(b);
}

TEST_CASE("MemoryBackend server_info: its store's size and bytes, its subscriptions", "[backend]") {
  larder::MemoryBackend b;
  REQUIRE(b.set("a", "1", larder::kNoExpiry).ok());
  REQUIRE(b.set("b", "22", larder::kNoExpiry).ok());
  auto sub = b.subscribe({});
  auto info = b.server_info();
  REQUIRE(info.ok());
  CHECK(info->kind == "memory");
  CHECK(info->keys == 2);
  CHECK(info->used_memory == b.store().bytes());
  CHECK(info->connected_clients == 1);
  sub.reset();
  CHECK(b.server_info()->connected_clients == 0);
}
