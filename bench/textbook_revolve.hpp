// The baseline for bench/revolve_generation.cpp: the same schedule as cairn::Revolve, generated
// the way the original revolve decides each split -- the repetition number found by a fresh loop
// over binomials (one multiplication and one division per repetition) and every bound recomputed
// from it by further divisions. Written for this benchmark from the published algorithm; no code
// of the original. It is a cairn::Schedule and fills buffers the same way cairn::Revolve does, so
// the two differ only in how a split is decided.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "cairn/schedule.hpp"

namespace cairn_bench {

class TextbookRevolve final : public cairn::Schedule {
 public:
  TextbookRevolve(std::int64_t steps, std::int64_t slots)
      : steps_(steps), slots_(slots), position_(static_cast<std::size_t>(std::min(slots, steps))) {
    TextbookRevolve::reset();
  }

  void reset() override {
    top_ = -1;
    current_ = 0;
    unreversed_ = steps_;
  }
  const char* name() const noexcept override { return "textbook revolve"; }

 private:
  // Hands out actions the same two ways as cairn::Revolve: by value for next(), written in place
  // for batches. (Defined before its callers: its return type is deduced.)
  template <typename Emit>
  auto produce(const Emit& emit) {
    using cairn::ActionKind;
    if (unreversed_ == 0) return emit(ActionKind::end, 0, 0, 0);
    if (current_ < 0) {
      current_ = position_[static_cast<std::size_t>(top_)];
      return emit(ActionKind::restore, top_, current_, 0);
    }
    if (current_ == unreversed_ - 1) {
      const std::int64_t step = current_;
      unreversed_ = step;
      if (top_ >= 0 && position_[static_cast<std::size_t>(top_)] == step) --top_;
      current_ = -1;
      return emit(ActionKind::reverse, 0, step, 0);
    }
    if (top_ < 0 || position_[static_cast<std::size_t>(top_)] != current_) {
      ++top_;
      position_[static_cast<std::size_t>(top_)] = current_;
      return emit(ActionKind::store, top_, current_, 0);
    }
    const std::int64_t from = current_;
    const std::int64_t s = slots_ - top_;
    current_ = s == 1 ? unreversed_ - 1 : from + split(unreversed_ - from, s);
    return emit(ActionKind::advance, 0, from, current_);
  }

 public:
  cairn::Action next() override {
    return produce(
        [](cairn::ActionKind kind, std::int64_t slot, std::int64_t step, std::int64_t to) {
          return cairn::Action{kind, 0, slot, step, to};
        });
  }

  std::size_t next_actions(cairn::Action* out, std::size_t capacity) override {
    for (std::size_t i = 0; i < capacity; ++i) {
      cairn::Action& a = out[i];
      produce([&a](cairn::ActionKind kind, std::int64_t slot, std::int64_t step, std::int64_t to) {
        a.kind = kind;
        a.level = 0;
        a.slot = slot;
        a.step = step;
        a.to = to;
      });
      if (a.kind == cairn::ActionKind::end) return i + 1;
    }
    return capacity;
  }

 private:
  // beta(s, j) = C(s + j, s) by the multiplicative formula.
  static std::int64_t beta(std::int64_t s, std::int64_t j) {
    std::int64_t value = 1;
    for (std::int64_t i = 1; i <= j; ++i) value = value * (s + i) / i;
    return value;
  }

  static std::int64_t split(std::int64_t l, std::int64_t s) {
    std::int64_t r = 0;
    std::int64_t range = 1;  // beta(s, r)
    while (range < l) {
      ++r;
      range = range * (s + r) / r;
    }
    if (r == 1) return 1;
    const std::int64_t below = range * r / (s + r);  // beta(s, r - 1)
    const std::int64_t right_min = beta(s - 1, r - 1);
    const std::int64_t upper = std::min(below, l - right_min);
    const std::int64_t lower =
        std::max(below * (r - 1) / (s + r - 1), l - right_min - beta(s - 2, r - 1));
    return std::min(upper, lower);
  }

  std::int64_t steps_;
  std::int64_t slots_;
  std::vector<std::int64_t> position_;
  std::int64_t top_ = -1;
  std::int64_t current_ = 0;
  std::int64_t unreversed_ = 0;
};

}  // namespace cairn_bench
