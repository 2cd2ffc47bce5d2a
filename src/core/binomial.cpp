#include "cairn/binomial.hpp"

#include <stdexcept>
#include <string>

#include "core/exact_arithmetic.hpp"

namespace cairn {
namespace {

using detail::kInt64Max;

void require_at_least(const char* function, const char* name, std::int64_t value,
                      std::int64_t minimum) {
  if (value < minimum) {
    throw std::invalid_argument(std::string(function) + ": " + name + " = " +
                                std::to_string(value) + " is not allowed; " + name +
                                " must be an integer >= " + std::to_string(minimum));
  }
}

constexpr std::uint64_t kBeyondInt64 = static_cast<std::uint64_t>(kInt64Max) + 1;

}  // namespace

std::int64_t beta(std::int64_t c, std::int64_t r) {
  require_at_least("beta", "c", c, 0);
  require_at_least("beta", "r", r, 0);
  const std::uint64_t value = detail::binomial_saturated(
      static_cast<std::uint64_t>(c), static_cast<std::uint64_t>(r), kBeyondInt64);
  if (value >= kBeyondInt64) {
    throw std::overflow_error(
        "beta(c, r) = C(c+r, c) overflows 64-bit integers for c = " + std::to_string(c) +
        ", r = " + std::to_string(r) + " (the result exceeds " + std::to_string(kInt64Max) + ")");
  }
  return static_cast<std::int64_t>(value);
}

std::int64_t repetitions(std::int64_t steps, std::int64_t slots) {
  require_at_least("repetitions", "steps", steps, 1);
  require_at_least("repetitions", "slots", slots, 1);
  const auto T = static_cast<std::uint64_t>(steps);
  const auto c = static_cast<std::uint64_t>(slots);
  if (T == 1) return 0;
  // beta(c, r) >= r + 1, so r = T - 1 always suffices: search (low, high] with low failing.
  auto reaches = [&](std::uint64_t r) { return detail::binomial_saturated(c, r, T) >= T; };
  std::uint64_t low = 0;
  std::uint64_t high = 1;
  while (!reaches(high)) {
    low = high;
    high = high > (T - 1) / 2 ? T - 1 : 2 * high;
  }
  while (high - low > 1) {
    const std::uint64_t middle = low + (high - low) / 2;
    if (reaches(middle)) {
      high = middle;
    } else {
      low = middle;
    }
  }
  return static_cast<std::int64_t>(high);
}

std::int64_t forward_cost(std::int64_t steps, std::int64_t slots) {
  require_at_least("forward_cost", "steps", steps, 1);
  require_at_least("forward_cost", "slots", slots, 1);
  const std::int64_t r = repetitions(steps, slots);
  if (r == 0) return 0;
  const auto T = static_cast<std::uint64_t>(steps);
  const auto c = static_cast<std::uint64_t>(slots);
  const auto ur = static_cast<std::uint64_t>(r);
  // C(c+r, c+1) = C(c+r-1, c) * (c+r) / (c+1), and C(c+r-1, c) = beta(c, r-1) < T fits.
  const std::uint64_t below = detail::binomial_saturated(c, ur - 1, T);
  const std::uint64_t g = std::gcd(below, c + 1);
  const detail::Wide subtracted = detail::multiply_wide(below / g, (c + ur) / ((c + 1) / g));
  const detail::Wide total = detail::multiply_wide(ur, T);
  const detail::Wide t = detail::subtract(total, subtracted);
  if (t.high != 0 || t.low > static_cast<std::uint64_t>(kInt64Max)) {
    throw std::overflow_error(
        "forward_cost: t(T, c) overflows 64-bit integers for T = " + std::to_string(steps) +
        ", c = " + std::to_string(slots) + " (r = " + std::to_string(r) + "; the count exceeds " +
        std::to_string(kInt64Max) + ")");
  }
  return static_cast<std::int64_t>(t.low);
}

}  // namespace cairn
