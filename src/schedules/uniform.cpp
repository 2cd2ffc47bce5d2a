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
  pending_.reserve(static_cast<std::size_t>(3 * std::min(interval, steps) + 4));
  reset();
}

std::int64_t Uniform::slots_needed(std::int64_t steps, std::int64_t interval) {
  check_arguments(steps, interval);
  return ceil_div(steps, interval) + std::max<std::int64_t>(std::min(interval, steps) - 2, 0);
}

std::int64_t Uniform::forward_steps(std::int64_t steps, std::int64_t interval) {
  check_arguments(steps, interval);
  return 2 * steps - 1 - ceil_div(steps, interval);
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
  std::int64_t least = std::numeric_limits<std::int64_t>::max();
  // slots_needed falls until k ~ sqrt(T) and then rises: scan up to there.
  const auto limit = std::min<std::int64_t>(
      steps, static_cast<std::int64_t>(2 * std::sqrt(static_cast<double>(steps))) + 2);
  for (std::int64_t k = 1; k <= limit; ++k) {
    const std::int64_t need = slots_needed(steps, k);
    if (need <= slots) return k;
    least = std::min(least, need);
  }
  throw std::invalid_argument("Uniform: no interval k fits " + std::to_string(slots) +
                              " slots for T = " + std::to_string(steps) +
                              " steps; uniform checkpointing needs at least " +
                              std::to_string(least) + " (Revolve needs only 1)");
}

void Uniform::reset() {
  pending_.clear();
  cursor_ = 0;
  forward_segment_ = 0;
  reverse_segment_ = segments_ - 1;
  ended_ = false;
}

void Uniform::fill_segment_reverse() {
  const std::int64_t j = reverse_segment_;
  const std::int64_t s = j * interval_;
  const std::int64_t e = std::min(s + interval_, steps_);
  pending_.push_back(Action::make_restore(j, s));
  // Through the segment once, keeping x_{s+1} .. x_{e-2} in the buffer (slot segments_ + l - 1).
  for (std::int64_t l = s + 1; l <= e - 1; ++l) {
    pending_.push_back(Action::make_advance(l - 1, l));
    if (l <= e - 2) pending_.push_back(Action::make_store(segments_ + (l - s - 1), l));
  }
  pending_.push_back(Action::make_reverse(e - 1));
  for (std::int64_t l = e - 2; l >= s; --l) {
    pending_.push_back(l > s ? Action::make_restore(segments_ + (l - s - 1), l)
                             : Action::make_restore(j, s));
    pending_.push_back(Action::make_reverse(l));
  }
}

Action Uniform::next() {
  while (cursor_ == pending_.size()) {
    pending_.clear();
    cursor_ = 0;
    if (ended_) return Action::make_end();
    if (forward_segment_ < segments_) {
      // Forward sweep: store x_s, run to the next checkpoint (the last segment to x_{T-1}).
      const std::int64_t j = forward_segment_++;
      const std::int64_t s = j * interval_;
      pending_.push_back(Action::make_store(j, s));
      const std::int64_t to = j + 1 < segments_ ? s + interval_ : steps_ - 1;
      if (to > s) pending_.push_back(Action::make_advance(s, to));
    } else if (reverse_segment_ >= 0) {
      fill_segment_reverse();
      --reverse_segment_;
    } else {
      ended_ = true;
      return Action::make_end();
    }
  }
  return pending_[cursor_++];
}

}  // namespace cairn
