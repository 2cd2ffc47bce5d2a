// A schedule that plays a fixed list of actions: for the tests that feed drivers streams no real
// schedule would make.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "cairn/action.hpp"
#include "cairn/schedule.hpp"

namespace cairn_test {

class ScriptedSchedule final : public cairn::Schedule {
 public:
  explicit ScriptedSchedule(std::vector<cairn::Action> actions) : actions_(std::move(actions)) {}

  /// The next scripted action; `end` once the script is done.
  cairn::Action next() override {
    return position_ < actions_.size() ? actions_[position_++] : cairn::Action::make_end();
  }
  void reset() override { position_ = 0; }
  const char* name() const noexcept override { return "scripted"; }

 private:
  std::vector<cairn::Action> actions_;
  std::size_t position_ = 0;
};

}  // namespace cairn_test
