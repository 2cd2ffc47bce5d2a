// The one-level tables behind TwoLevelRevolve: the cheapest way to reverse a segment of l steps
// with the RAM slots alone, from a start held in RAM (Q) or on disk (R). They grow on demand
// (every entry needs only shorter lengths), which is what lets the planner look at longer segments
// only when its bound says they might pay.
#pragma once

#include <cstdint>
#include <vector>

// The planners' inner minima run in a version for AVX2 where the processor has it (chosen when
// the library loads) and in the baseline one elsewhere: twice the doubles per instruction.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define CAIRN_WIDE_SIMD __attribute__((target_clones("avx2", "default")))
#else
#define CAIRN_WIDE_SIMD
#endif

namespace cairn::two_level_detail {

// Prices of the model (two_level.hpp), in units of one forward step's cost where uf = 1.
struct Prices {
  double forward = 1;   // uf
  double backward = 0;  // ub
  double ram_write = 0, ram_read = 0;
  double disk_write = 0, disk_read = 0;
};

// What reversing a segment does first (its choice): reverse it at once (l = 1), advance to its
// last state and restore the start afterwards, split after j steps (store x_{s+j} in RAM), or,
// for a start on disk, copy the start to RAM and free its disk slot.
inline constexpr std::int64_t choice_without_store = 0;
inline constexpr std::int64_t choice_move_to_ram = -1;

// min over j in [1, l) of forward[j] + left[l - j] + right[j]: the inner loop of every split,
// here and in the disk tier (two_level_plan.cpp).
double best_split(const double* forward, const double* left, const double* right, std::int64_t l);

class SegmentTables {
 public:
  // ram_slots >= 0: the RAM slots free when a disk-rooted segment starts.
  SegmentTables(const Prices& prices, std::int64_t ram_slots);

  // Makes q() and r() defined for lengths 1..length. O(length^2 ram_slots) time the first time,
  // only the new lengths after that.
  void extend(std::int64_t length);
  std::int64_t length() const noexcept { return length_; }
  std::int64_t ram_slots() const noexcept { return ram_slots_; }
  const Prices& prices() const noexcept { return prices_; }

  // Q(l, free): the start x_s is in a RAM slot and `free` more RAM slots are empty
  // (0 <= free < ram_slots); reverse [s, s + l) and free the start's slot.
  double q(std::int64_t free, std::int64_t l) const { return q_[index(free)][index(l)]; }
  // R(l): the start is on disk and all ram_slots RAM slots are empty; reverse [s, s + l) without
  // storing on disk, and free the start's disk slot.
  double r(std::int64_t l) const { return r_[index(l)]; }
  // The choice that achieves q() / r(): choice_without_store, a split j in [1, l), or (r only)
  // choice_move_to_ram. Found by an exact comparison with the table's value, then remembered.
  std::int64_t q_choice(std::int64_t free, std::int64_t l);
  std::int64_t r_choice(std::int64_t l);
  // Bytes the tables hold now.
  std::size_t bytes() const noexcept;

 private:
  static std::size_t index(std::int64_t i) { return static_cast<std::size_t>(i); }
  // The options, each one expression used both to fill and to find the choice again.
  double q_without_store(std::int64_t free, std::int64_t l) const;
  double q_split(std::int64_t free, std::int64_t l, std::int64_t j) const;
  double r_without_store(std::int64_t l) const;
  double r_split(std::int64_t l, std::int64_t j) const;
  double r_move(std::int64_t l) const;

  Prices prices_;
  std::int64_t ram_slots_;
  std::int64_t length_ = 0;
  std::vector<double> forward_;                      // forward_[j] = j uf
  std::vector<std::vector<double>> q_;               // q_[free][l]
  std::vector<double> r_;                            // r_[l]
  std::vector<std::vector<std::int64_t>> q_choice_;  // memo, unknown = unknown_choice
  std::vector<std::int64_t> r_choice_;
};

}  // namespace cairn::two_level_detail
