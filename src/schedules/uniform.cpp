#include "cairn/uniform.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace cairn {

namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return a / b + (a % b != 0 ? 1 : 0);
}

void check_arguments(std::int64_t steps, std::int64_t interval) {
  if (steps < 1) {
    throw std::invalid_argument("Uniform: steps = " + std::to_string(steps) +
                                " is not allowed; steps must be an integer >= 1");
  }
  if (interval < 1) {
    throw std::invalid_argument("Uniform: interval = " + std::to_string(interval) +
                                " is not allowed; the checkpoint interval k must be >= 1");
  }
}

}  // namespace

Uniform::Uniform(std::int64_t steps, std::int64_t interval)
    : steps_(steps), interval_(interval), segments_(0) {
  check_arguments(steps, interval);
  segments_ = ceil_div(steps, interval);
  reset();
}

std::int64_t Uniform::slots_needed(std::int64_t steps, std::int64_t interval) {
  check_arguments(steps, interval);
  return ceil_div(steps, interval) + std::max<std::int64_t>(std::min(interval, steps) - 2, 0);
}

std::int64_t Uniform::forward_steps(std::int64_t steps, std::int64_t interval) {
  check_arguments(steps, interval);
  // 2 T - 1 - ceil(T / k) = (T - 1) + (T - ceil(T / k)): both terms fit, their sum may not.
  const std::int64_t forward_sweep = steps - 1;
  const std::int64_t reverse_sweep = steps - ceil_div(steps, interval);
  if (reverse_sweep > std::numeric_limits<std::int64_t>::max() - forward_sweep) {
    throw std::overflow_error(
        "Uniform: the forward-step count 2 T - 1 - ceil(T / k) overflows "
        "64-bit integers for T = " +
        std::to_string(steps) + ", k = " + std::to_string(interval));
  }
  return forward_sweep + reverse_sweep;
}

double Uniform::interval_objective(double alpha, double a, double beta, std::int64_t interval) {
  const double k = static_cast<double>(interval);
  return alpha * a / k + beta * k / 2;
}

std::int64_t Uniform::optimal_interval(double alpha, double a, double beta) {
  if (!(std::isfinite(alpha) && alpha > 0 && std::isfinite(a) && a > 0 && std::isfinite(beta) &&
        beta > 0)) {
    throw std::invalid_argument(
        "Uniform::optimal_interval: alpha, a and beta must be finite and > 0 (got " +
        std::to_string(alpha) + ", " + std::to_string(a) + ", " + std::to_string(beta) + ")");
  }
  const double star = std::sqrt(2 * alpha * a / beta);
  if (!(star < 9e18)) throw std::invalid_argument("Uniform::optimal_interval: k* is too large");
  const auto low = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(star)));
  const std::int64_t high = low + 1;
  return interval_objective(alpha, a, beta, high) < interval_objective(alpha, a, beta, low) ? high
                                                                                            : low;
}

std::int64_t Uniform::best_interval_for_slots(std::int64_t steps, std::int64_t slots) {
  check_arguments(steps, 1);
  // need(k) = slots_needed(T, k) does not increase on k = 1..K + 1, where K is the largest k with
  // k (k + 1) <= T: there T / k - T / (k + 1) >= 1, so ceil(T / k) drops by at least the 1 that
  // the buffer grows. Its least value is within a few steps past K + 1, after which it grows
  // again. So: the smallest fitting k by bisection on 1..K + 1, else a short scan past it. O(log T)
  // work where a scan up to 2 sqrt(T) took 52 s for T = 2^63 - 1.
  const auto need = [&](std::int64_t k) { return slots_needed(steps, k); };
  std::int64_t K = static_cast<std::int64_t>(std::sqrt(static_cast<double>(steps)));
  while (K > 0 && K > (steps - K) / K) --K;            // K (K + 1) > T
  while ((K + 1) <= (steps - (K + 1)) / (K + 1)) ++K;  // (K + 1) (K + 2) <= T
  const std::int64_t top = std::min(steps, K + 1);
  if (need(top) <= slots) {
    std::int64_t low = 1, high = top;  // need(high) <= slots
    while (low < high) {
      const std::int64_t middle = low + (high - low) / 2;
      if (need(middle) <= slots) {
        high = middle;
      } else {
        low = middle + 1;
      }
    }
    return low;
  }
  std::int64_t least = need(top);
  for (std::int64_t k = top + 1; k <= std::min(steps, top + 8); ++k) {
    if (need(k) <= slots) return k;
    least = std::min(least, need(k));
  }
  throw std::invalid_argument("Uniform: no interval k fits " + std::to_string(slots) +
                              " slots for T = " + std::to_string(steps) +
                              " steps; uniform checkpointing needs at least " +
                              std::to_string(least) + " (Revolve needs only 1)");
}

void Uniform::reset() {
  phase_ = Phase::forward_store;
  segment_ = 0;
  position_ = 0;
}

std::int64_t Uniform::segment_start() const noexcept {
  return segment_ * interval_;
}

std::int64_t Uniform::segment_end() const noexcept {
  const std::int64_t start = segment_start();
  return interval_ >= steps_ - start ? steps_ : start + interval_;
}

// The stream, one action per call, from a few integers: no buffer of a segment's actions, so
// the schedule itself takes O(1) memory whatever k (the user's storage holds the segment).
//   forward:  store x_s into slot j, advance to the next checkpoint (the last segment to x_{T-1});
//   reverse, segment j = m-1..0 over [s, e): restore x_s; advance through it one step at a time,
//             storing x_{s+1} .. x_{e-2} in the buffer slots m ..; reverse e - 1; then for
//             l = e-2..s: restore x_l (buffer, or the checkpoint for l = s), reverse l.
Action Uniform::next() {
  for (;;) {
    switch (phase_) {
      case Phase::forward_store:
        if (segment_ == segments_) {
          segment_ = segments_ - 1;
          phase_ = Phase::segment_restore;
          continue;
        }
        phase_ = Phase::forward_advance;
        return Action::make_store(segment_, segment_start());
      case Phase::forward_advance: {
        const std::int64_t start = segment_start();
        const std::int64_t to = segment_ + 1 < segments_ ? start + interval_ : steps_ - 1;
        ++segment_;
        phase_ = Phase::forward_store;
        if (to > start) return Action::make_advance(start, to);
        continue;
      }
      case Phase::segment_restore:
        if (segment_ < 0) {
          phase_ = Phase::ended;
          continue;
        }
        position_ = segment_start() + 1;
        phase_ = Phase::segment_advance;
        return Action::make_restore(segment_, segment_start());
      case Phase::segment_advance: {
        const std::int64_t l = position_;  // the state this advance makes
        if (l > segment_end() - 1) {
          phase_ = Phase::segment_reverse_last;
          continue;
        }
        if (l <= segment_end() - 2) {
          phase_ = Phase::segment_store;  // which moves position_ on
        } else {
          ++position_;
        }
        return Action::make_advance(l - 1, l);
      }
      case Phase::segment_store: {
        const std::int64_t l = position_++;
        phase_ = Phase::segment_advance;
        return Action::make_store(segments_ + (l - segment_start() - 1), l);
      }
      case Phase::segment_reverse_last:
        position_ = segment_end() - 2;
        phase_ = Phase::back_restore;
        return Action::make_reverse(segment_end() - 1);
      case Phase::back_restore: {
        const std::int64_t start = segment_start();
        if (position_ < start) {
          --segment_;
          phase_ = Phase::segment_restore;
          continue;
        }
        phase_ = Phase::back_reverse;
        return position_ > start
                   ? Action::make_restore(segments_ + (position_ - start - 1), position_)
                   : Action::make_restore(segment_, start);
      }
      case Phase::back_reverse:
        phase_ = Phase::back_restore;
        return Action::make_reverse(position_--);
      default:
        return Action::make_end();
    }
  }
}

}  // namespace cairn
