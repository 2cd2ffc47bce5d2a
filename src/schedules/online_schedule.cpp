#include "cairn/online_schedule.hpp"

#include <stdexcept>
#include <string>
#include <utility>

#include "cairn/online.hpp"

namespace cairn {

SimulatedOnlineRun::SimulatedOnlineRun(std::int64_t steps, std::int64_t slots)
    : SimulatedOnlineRun(steps, std::make_unique<OnlineRevolve>(slots)) {}

SimulatedOnlineRun::SimulatedOnlineRun(std::int64_t steps, std::unique_ptr<OnlineSchedule> online)
    : steps_(steps), online_(std::move(online)) {
  if (steps < 1) {
    throw std::invalid_argument("SimulatedOnlineRun: steps = " + std::to_string(steps) +
                                " is not allowed; steps must be >= 1");
  }
  if (online_ == nullptr) {
    throw std::invalid_argument("SimulatedOnlineRun: the online schedule is null");
  }
}

SimulatedOnlineRun::~SimulatedOnlineRun() = default;

void SimulatedOnlineRun::reset() {
  started_ = false;
  position_ = 0;
  pending_.clear();
  pending_next_ = 0;
}

Action SimulatedOnlineRun::next() {
  if (!started_) {
    started_ = true;
    position_ = 0;
    return online_->start();
  }
  if (pending_next_ < pending_.size()) return pending_[pending_next_++];
  if (position_ < steps_) {
    ++position_;
    pending_ = online_->advanced();
    pending_next_ = 0;
    return Action::make_advance(position_ - 1, position_);
  }
  if (!online_->finished()) online_->finish();
  return online_->next();
}

}  // namespace cairn
