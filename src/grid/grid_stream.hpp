// Builds grid streams with the bookkeeping every grid schedule shares: which outputs are held,
// which cells are reversed, and the rule that frees a cell once every cell reading it has been
// reversed (its own reverse never needs it: the taped evaluation makes it).
#pragma once

#include <cstdint>
#include <vector>

#include "cairn/grid.hpp"

namespace cairn::detail {

class GridStream {
 public:
  explicit GridStream(const GridShape& shape)
      : T_(shape.steps()),
        L_(shape.depth()),
        held_(static_cast<std::size_t>(shape.cells()), 0),
        reversed_(static_cast<std::size_t>(shape.cells()), 0) {}

  bool held(std::int64_t t, std::int64_t l) const noexcept { return held_[at(t, l)] != 0; }
  bool reversed(std::int64_t t, std::int64_t l) const noexcept {
    return t >= T_ || l >= L_ || reversed_[at(t, l)] != 0;
  }

  void compute(std::int64_t t, std::int64_t l) {
    actions_.push_back({GridActionKind::compute, static_cast<std::int32_t>(l), t});
    held_[at(t, l)] = 1;
  }
  void free(std::int64_t t, std::int64_t l) {
    actions_.push_back({GridActionKind::free, static_cast<std::int32_t>(l), t});
    held_[at(t, l)] = 0;
  }
  /// Frees (t, l) if it is held.
  void release(std::int64_t t, std::int64_t l) {
    if (t >= 0 && l >= 0 && held(t, l)) free(t, l);
  }
  /// Reverses (t, l), then frees each of its inputs that no unreversed cell reads any more.
  void reverse(std::int64_t t, std::int64_t l) {
    actions_.push_back({GridActionKind::reverse, static_cast<std::int32_t>(l), t});
    reversed_[at(t, l)] = 1;
    if (t > 0 && reversed(t - 1, l + 1)) release(t - 1, l);
    if (l > 0 && reversed(t + 1, l - 1)) release(t, l - 1);
  }

  std::vector<GridAction> take() { return std::move(actions_); }

 private:
  std::size_t at(std::int64_t t, std::int64_t l) const noexcept {
    return static_cast<std::size_t>(t * L_ + l);
  }
  std::int64_t T_, L_;
  std::vector<std::uint8_t> held_, reversed_;
  std::vector<GridAction> actions_;
};

}  // namespace cairn::detail
