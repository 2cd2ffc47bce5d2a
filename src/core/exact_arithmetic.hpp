// Internal: exact integer helpers shared by the binomial functions and the schedules.
#pragma once

#include <cstdint>
#include <limits>
#include <numeric>

namespace cairn::detail {

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

/// a * b, or false if the product exceeds `limit` (all operands non-negative).
inline bool multiply_within(std::uint64_t a, std::uint64_t b, std::uint64_t limit,
                            std::uint64_t& product) noexcept {
  if (a != 0 && b > limit / a) return false;
  product = a * b;
  return product <= limit;
}

/// value * numerator / denominator where the exact quotient is known to be an integer (the step
/// C(n, k) -> C(n + 1, k + 1) and its relatives). Cancelling the gcd first keeps every
/// intermediate no larger than the result, so the only overflow possible is the result's own.
/// Returns false if the result exceeds `limit`.
inline bool scale_exact(std::uint64_t value, std::uint64_t numerator, std::uint64_t denominator,
                        std::uint64_t limit, std::uint64_t& result) noexcept {
  const std::uint64_t g = std::gcd(value, denominator);
  const std::uint64_t reduced_denominator = denominator / g;
  return multiply_within(value / g, numerator / reduced_denominator, limit, result);
}

/// C(c + r, c), saturated: returns min(C(c + r, c), cap). Never overflows for any c, r >= 0.
/// Work O(min(c, r)) multiplications, and fewer when the cap is reached early.
inline std::uint64_t binomial_saturated(std::uint64_t c, std::uint64_t r,
                                        std::uint64_t cap) noexcept {
  const std::uint64_t small = c < r ? c : r;
  const std::uint64_t large = c < r ? r : c;
  std::uint64_t value = 1;  // C(large + i, i) after step i, increasing in i
  for (std::uint64_t i = 1; i <= small; ++i) {
    if (value >= cap) return cap;
    std::uint64_t next = 0;
    // large + i cannot overflow: both operands are below 2^63.
    if (!scale_exact(value, large + i, i, cap, next)) return cap;
    value = next;
  }
  return value < cap ? value : cap;
}

/// An unsigned 128-bit value as two 64-bit halves: only what forward_cost needs (product of two
/// 64-bit numbers, difference, comparison), portable to compilers without __int128.
struct Wide {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
};

inline Wide multiply_wide(std::uint64_t a, std::uint64_t b) noexcept {
  const std::uint64_t mask = 0xffffffffu;
  const std::uint64_t a_lo = a & mask, a_hi = a >> 32;
  const std::uint64_t b_lo = b & mask, b_hi = b >> 32;
  const std::uint64_t lo_lo = a_lo * b_lo;
  const std::uint64_t hi_lo = a_hi * b_lo;
  const std::uint64_t lo_hi = a_lo * b_hi;
  const std::uint64_t hi_hi = a_hi * b_hi;
  const std::uint64_t middle = (lo_lo >> 32) + (hi_lo & mask) + (lo_hi & mask);
  Wide w;
  w.low = (middle << 32) | (lo_lo & mask);
  w.high = hi_hi + (hi_lo >> 32) + (lo_hi >> 32) + (middle >> 32);
  return w;
}

inline bool less(const Wide& a, const Wide& b) noexcept {
  return a.high < b.high || (a.high == b.high && a.low < b.low);
}

/// a - b, requires b <= a.
inline Wide subtract(const Wide& a, const Wide& b) noexcept {
  Wide d;
  d.low = a.low - b.low;
  d.high = a.high - b.high - (a.low < b.low ? 1 : 0);
  return d;
}

}  // namespace cairn::detail
