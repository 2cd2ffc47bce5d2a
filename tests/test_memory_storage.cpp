#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "cairn/memory_storage.hpp"

using cairn::MemoryStorage;

TEST_CASE("MemoryStorage round-trips vectors and arrays in aligned slots", "[storage]") {
  MemoryStorage storage(3, 5 * sizeof(double), 64);
  REQUIRE(storage.slots() == 3);
  REQUIRE(storage.slot_bytes() == 40);
  for (std::int64_t slot = 0; slot < 3; ++slot) {
    REQUIRE(reinterpret_cast<std::uintptr_t>(storage.slot_data(slot)) % 64 == 0);
    REQUIRE(storage.held_step(slot) == -1);
  }
  const std::vector<double> a{1, 2, 3, 4, 5};
  storage.store(1, 7, cairn::writer_for(a));
  REQUIRE(storage.held_step(1) == 7);
  REQUIRE(storage.occupied() == 1);
  std::vector<double> b(5, 0.0);
  storage.restore(1, 7, cairn::reader_for(b));
  REQUIRE(b == a);

  const double raw[3] = {0.5, -1.25, 3e300};
  storage.store_array(2, 9, raw, 3);
  double back[3] = {};
  storage.restore_array(2, 9, back, 3);
  REQUIRE(std::memcmp(raw, back, sizeof raw) == 0);
  REQUIRE(storage.occupied() == 2);
  storage.store(2, 10, cairn::writer_for(a));  // overwrite keeps the count
  REQUIRE(storage.occupied() == 2);
  storage.free(2);
  REQUIRE(storage.occupied() == 1);
  REQUIRE(storage.held_step(2) == -1);
}

TEST_CASE("MemoryStorage refuses what it cannot do, and says why", "[storage]") {
  MemoryStorage storage(2, 16);
  const std::vector<double> big(3, 1.0);
  REQUIRE_THROWS_WITH(storage.store(0, 0, cairn::writer_for(big)),
                      Catch::Contains("24 bytes does not fit a slot of 16 bytes"));
  REQUIRE_THROWS_WITH(storage.store(2, 0, cairn::writer_for(std::vector<double>(1))),
                      Catch::Contains("slot 2 does not exist; slots are 0..1"));
  REQUIRE_THROWS_AS(storage.store(-1, 0, cairn::writer_for(std::vector<double>(1))),
                    std::out_of_range);
  std::vector<double> x(2, 0.0);
  REQUIRE_THROWS_WITH(storage.restore(0, 3, cairn::reader_for(x)),
                      Catch::Contains("slot 0 holds nothing, not x_3"));
  storage.store(0, 4, cairn::writer_for(std::vector<double>{1.0, 2.0}));
  REQUIRE_THROWS_WITH(storage.restore(0, 3, cairn::reader_for(x)),
                      Catch::Contains("slot 0 holds x_4, not x_3"));
  std::vector<double> wrong_size(1, 0.0);
  REQUIRE_THROWS_WITH(storage.restore(0, 4, cairn::reader_for(wrong_size)),
                      Catch::Contains("16 bytes cannot be restored into a state of 8 bytes"));
  REQUIRE_THROWS_AS(MemoryStorage(-1, 8), std::invalid_argument);
  REQUIRE_THROWS_AS(MemoryStorage(1, 8, 48), std::invalid_argument);
  REQUIRE_THROWS_WITH(MemoryStorage(std::int64_t{1} << 62, std::size_t{1} << 40),
                      Catch::Contains("exceed the address space"));
  MemoryStorage none(0, 8);  // T = 1 needs no slot
  REQUIRE(none.slots() == 0);
  // An empty slot holds step -1; "x_-1" must not match it, nor be stored.
  REQUIRE_THROWS_WITH(storage.restore(1, -1, cairn::reader_for(x)),
                      Catch::Contains("step -1 names no state"));
  REQUIRE_THROWS_AS(storage.store(1, -1, cairn::writer_for(x)), std::invalid_argument);
  REQUIRE(storage.occupied() == 1);
  REQUIRE(storage.held_step(1) == -1);
}

TEST_CASE("MemoryStorage: a failed store leaves that slot empty and the others intact",
          "[storage]") {
  MemoryStorage storage(2, 8);
  const double one = 1.0;
  storage.store_array(0, 0, &one, 1);
  storage.store_array(1, 5, &one, 1);
  const cairn::StateWriter failing{
      [](const void*, void*) { throw std::runtime_error("copy failed"); }, nullptr, 8};
  REQUIRE_THROWS_WITH(storage.store(1, 6, failing), "copy failed");
  REQUIRE(storage.held_step(1) == -1);
  REQUIRE(storage.occupied() == 1);
  double back = 0;
  storage.restore_array(0, 0, &back, 1);
  REQUIRE(back == 1.0);
}

TEST_CASE("writer_for offers contiguous states as one block and others not", "[storage]") {
  const std::vector<double> v{1, 2, 3};
  CHECK(cairn::writer_for(v).contiguous == v.data());
  struct Point {
    double x, y;
  };
  const Point p{1, 2};
  CHECK(cairn::writer_for(p).contiguous == &p);
  CHECK(cairn::is_contiguous_state<std::vector<double>>);
}
