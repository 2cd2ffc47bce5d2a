#include "cairn/store_all.hpp"

#include <stdexcept>
#include <string>

namespace cairn {

StoreAll::StoreAll(std::int64_t steps, Level level) : steps_(steps), level_(level) {
  if (steps < 1) {
    throw std::invalid_argument("StoreAll: steps = " + std::to_string(steps) +
                                " is not allowed; steps must be an integer >= 1");
  }
  if (level < 0) {
    throw std::invalid_argument("StoreAll: level = " + std::to_string(level) +
                                " is not allowed; levels are numbered from 0 (the fastest)");
  }
  reset();
}

void StoreAll::reset() {
  position_ = 0;
  unreversed_ = steps_;
  stored_current_ = false;
}

Action StoreAll::next() {
  if (unreversed_ == 0) return Action::make_end();
  if (position_ < 0) {  // reverse sweep: x_i lives in slot i
    position_ = unreversed_ - 1;
    return Action::make_restore(position_, position_, level_);
  }
  if (position_ == unreversed_ - 1) {
    const std::int64_t step = position_;
    unreversed_ = step;
    position_ = -1;
    return Action::make_reverse(step);
  }
  // forward sweep: store x_i in slot i, then step
  if (!stored_current_) {
    stored_current_ = true;
    return Action::make_store(position_, position_, level_);
  }
  stored_current_ = false;
  ++position_;
  return Action::make_advance(position_ - 1, position_);
}

}  // namespace cairn
