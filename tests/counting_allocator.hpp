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

void* operator new(std::size_t size) {
  cairn_test::allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
