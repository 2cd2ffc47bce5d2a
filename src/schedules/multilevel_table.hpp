// The dynamic program behind MultilevelRevolve (one, two or three storage levels): its tables and
// the options of the nested recursion, each written once and used both to fill the tables
// (multilevel_table.cpp) and to emit the stream that achieves the optimum (multilevel.cpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "cairn/multilevel.hpp"

namespace cairn::multilevel_detail {

inline constexpr int max_levels = 3;
inline constexpr double infinity = std::numeric_limits<double>::infinity();

// Free slots on each level, as DP coordinates. A level with at least T slots never runs out
// (no stream of T steps holds more than T states), so it is "unlimited" and its coordinate
// stays 0: that collapses its table dimension. Levels beyond the given ones have extent 1 too.
struct Free {
  std::int64_t count[max_levels];
};

// Subproblem P(l, free, L): the working state is x_s, held in a slot on level L (not counted in
// `free`); reverse steps [s, s + l) and free x_s's slot. V is the same without the option of
// first moving x_s to another level; H(m, free) is the cost of storing a fresh state on the best
// level and solving P(m, ...) from it.
//
// Every value is a sum of the same terms in the same order wherever it is computed (in the table
// and again when the stream is emitted), so "which option achieved the minimum" is an exact
// floating-point comparison.
class MultilevelTable {
 public:
  // Throws std::length_error when the tables would exceed max_table_bytes; fills them otherwise.
  MultilevelTable(std::int64_t steps, const std::vector<StorageLevel>& levels,
                  const StepCosts& step, std::size_t max_table_bytes);

  std::int64_t steps() const noexcept { return steps_; }
  int level_count() const noexcept { return level_count_; }
  bool unlimited(int k) const noexcept { return unlimited_[k]; }
  std::int64_t slots(int k) const noexcept { return slots_[k]; }
  double backward() const noexcept { return step_.backward; }
  std::size_t table_bytes() const noexcept { return table_bytes_; }

  Free top_free() const {
    Free f{};
    for (int k = 0; k < max_levels; ++k) f.count[k] = unlimited_[k] ? 0 : slots_[k];
    return f;
  }

  // Cost of the whole stream: store x_0 on the best level, or just reverse when T = 1.
  double optimum() const {
    if (steps_ == 1) return step_.backward;
    double best = infinity;
    for (int k = 0; k < level_count_; ++k) {
      if (can_take(k, top_free())) best = std::min(best, top_option(k));
    }
    return best;
  }

  bool can_take(int k, const Free& f) const {
    return k < level_count_ && (unlimited_[k] || f.count[k] > 0);
  }
  Free take(int k, Free f) const {
    if (!unlimited_[k]) --f.count[k];
    return f;
  }
  // Returns false when giving back would exceed the level's slots (an unreachable coordinate).
  bool give(int k, Free& f) const {
    if (unlimited_[k]) return true;
    if (f.count[k] >= slots_[k]) return false;
    ++f.count[k];
    return true;
  }

  double p(int level, const Free& f, std::int64_t l) const { return row(p_, level, f)[l]; }
  double v(int level, const Free& f, std::int64_t l) const { return row(v_, level, f)[l]; }
  double h(const Free& f, std::int64_t l) const { return row(h_, 0, f)[l]; }

  // Whether solving P(l, f, k) starts without moving its state to another level.
  bool stays(int k, const Free& f, std::int64_t l) const { return p(k, f, l) == v(k, f, l); }

  // Store x_0 on level k, then solve the whole chain from it.
  double top_option(int k) const { return write_[k] + p(k, take(k, top_free()), steps_); }
  // (2): advance to x_{s+l-1}, reverse it, restore x_s, continue with l - 1 steps.
  double without_store(std::int64_t l, int level, const Free& f) const {
    return forward_[static_cast<std::size_t>(l - 1)] + step_.backward + read_[level] +
           p(level, f, l - 1);
  }
  // (3) for one split j: advance j steps, store x_{s+j} on the best level and reverse
  // [s + j, s + l) from it, restore x_s, reverse [s, s + j).
  double split_option(std::int64_t l, int level, const Free& f, std::int64_t j) const {
    return read_[level] + split_sum(forward_.data(), row(h_, 0, f), row(p_, level, f), l, j);
  }
  // Store the state on level k, then solve from it.
  double store_on(int k, std::int64_t m, const Free& f) const {
    return write_[k] + p(k, take(k, f), m);
  }
  // (4): move x_s from `level` to another level k, then solve without moving again.
  bool move_option(int level, int k, std::int64_t l, Free f, double& value, Free& after) const {
    if (!can_take(k, f)) return false;
    f = take(k, f);
    if (!give(level, f)) return false;
    value = write_[k] + v(k, f, l);
    after = f;
    return true;
  }

 private:
  // (3) before adding the restore of x_s; the inner loop of the fill.
  static double split_sum(const double* forward, const double* h, const double* p, std::int64_t l,
                          std::int64_t j) {
    return forward[j] + h[l - j] + p[j];
  }

  std::size_t cell(const Free& f) const {
    return static_cast<std::size_t>(f.count[0]) +
           extent_[0] * (static_cast<std::size_t>(f.count[1]) +
                         extent_[1] * static_cast<std::size_t>(f.count[2]));
  }
  const double* row(const std::vector<double>& table, int level, const Free& f) const {
    return table.data() + (static_cast<std::size_t>(level) * cells_ + cell(f)) * length_;
  }
  double* row(std::vector<double>& table, int level, const Free& f) {
    return table.data() + (static_cast<std::size_t>(level) * cells_ + cell(f)) * length_;
  }

  // Visits every coordinate so that take(k, f) comes before f for every k (counts ascending,
  // level 0 innermost), which the fill of H relies on.
  template <typename Visit>
  void for_each_cell(Visit&& visit) const {
    for (std::int64_t c = 0; c < static_cast<std::int64_t>(extent_[2]); ++c) {
      for (std::int64_t b = 0; b < static_cast<std::int64_t>(extent_[1]); ++b) {
        for (std::int64_t a = 0; a < static_cast<std::int64_t>(extent_[0]); ++a) {
          visit(Free{{a, b, c}});
        }
      }
    }
  }

  void fill();

  std::int64_t steps_;
  int level_count_;
  StepCosts step_;
  bool unlimited_[max_levels] = {};
  std::int64_t slots_[max_levels] = {};
  double write_[max_levels] = {};
  double read_[max_levels] = {};
  std::size_t extent_[max_levels] = {1, 1, 1};
  std::size_t cells_ = 1;
  std::size_t length_ = 0;
  std::size_t table_bytes_ = 0;
  std::vector<double> forward_;
  std::vector<double> p_, v_, h_;
};

}  // namespace cairn::multilevel_detail
