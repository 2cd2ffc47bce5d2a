// Replaces the global operator new and delete of the one test executable that includes it, so
// that it can count every allocation made while the code under test runs. Include it in exactly
// one translation unit of a program of its own.
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

namespace cairn_test {
inline std::atomic<long> allocations{0};
}

// GCC 12 inlines these into the standard library's allocator and then, seeing malloc behind
// new and free behind delete, reports a mismatch that is not one (the pair is replaced as a
// whole); keeping them out of line keeps that analysis out.
#if defined(__GNUC__)
#define CAIRN_TEST_NOINLINE __attribute__((noinline))
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#else
#define CAIRN_TEST_NOINLINE
#endif

CAIRN_TEST_NOINLINE void* operator new(std::size_t size) {
  cairn_test::allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
CAIRN_TEST_NOINLINE void operator delete(void* p) noexcept {
  std::free(p);
}
CAIRN_TEST_NOINLINE void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
