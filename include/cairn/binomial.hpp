// Binomial arithmetic of Revolve (Griewank & Walther, ACM TOMS 26(1), 2000), exact in 64 bits.
//
// `slots` (c) counts every checkpoint slot, including the one that holds x_0. All functions are
// exact for every input whose result fits in std::int64_t; when it does not, they throw
// std::overflow_error (the message contains "overflow"). Negative or zero arguments where a
// positive one is required throw std::invalid_argument. None of them ever wraps around.
#pragma once

#include <cstdint>

namespace cairn {

/// beta(c, r) = C(c + r, c): the largest number of steps that c slots reverse with no step
/// advanced more than r times. Requires c >= 0 and r >= 0.
std::int64_t beta(std::int64_t c, std::int64_t r);

/// r(T, c): the smallest r with beta(c, r) >= T, i.e. the fewest times the most recomputed step
/// must be advanced. Requires T >= 1 and c >= 1. r(1, c) = 0; r(T, 1) = T - 1.
std::int64_t repetitions(std::int64_t steps, std::int64_t slots);

/// t(T, c) = r T - C(c + r, c + 1), r = r(T, c): the minimal number of forward steps (advances)
/// that reverse T steps with c slots, not counting the T taped steps done inside `reverse`.
/// Requires T >= 1 and c >= 1. Example: t(100, 3) = 7 * 100 - C(10, 4) = 490.
std::int64_t forward_cost(std::int64_t steps, std::int64_t slots);

}  // namespace cairn
