// Optimal checkpointing for chains whose steps differ in cost and whose states differ in size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cairn/action.hpp"
#include "cairn/schedule.hpp"

namespace cairn {

/// One step of a heterogeneous chain: x_i -> x_{i+1}.
struct ChainStep {
  double forward_cost = 1;        ///< f_i: one advance over this step, >= 0
  double backward_cost = 0;       ///< b_i: the reverse action of this step, >= 0
  std::uint64_t state_bytes = 1;  ///< s_i: the size of x_i, the state this step starts from
};

/// The cheapest schedule for a chain of T steps with step costs f_i, reverse costs b_i and state
/// sizes s_i, when the checkpoints held at once may take at most `budget_bytes` (x_0's included).
///
/// Model and method: a dynamic program over segments, the nested recursion of Griewank & Walther
/// generalised to unequal costs and sizes (as in Beaumont, Eyraud-Dubois, Herrmann, Joly & Shilova,
/// "Optimal checkpointing for heterogeneous chains", 2019). With x_i stored and m bytes free,
/// reversing steps i..j-1 costs
///     Opt(i, j, m) = min( sum_{l=i+1}^{j-1} F(i, l),                               (no store)
///                         min_{i<k<j, s_k <= m} F(i, k) + Opt(k, j, m - s_k) + Opt(i, k, m) )
/// with F(i, k) = f_i + ... + f_{k-1} and Opt(i, i + 1, m) = 0; the schedule's cost is
/// Opt(0, T, B - s_0) + sum_i b_i. Memory is counted in units of `memory_unit` bytes (default:
/// the greatest common divisor of the sizes), a size rounded up and the budget down to whole
/// units, so the budget is never exceeded. Stores, restores and frees cost nothing here (use
/// MultilevelRevolve to price I/O). The streams this recursion can describe form the nested
/// class: a checkpoint x_k stored while reversing [i, j) stays until [k, j) is reversed, is then
/// freed, and checkpoints form a stack.
///
/// How exact:
///  - Within its model, the nested class above, it is exactly optimal: the tests enumerate every
///    nested plan of random chains of T <= 8 with sizes of 1 to 3 units, for every budget, and
///    the planner's cost equals the cheapest one in each instance.
///  - Equal sizes, unequal costs: the tests also search every legal action stream of random
///    chains (T <= 7); the planner's cost equals the best stream's in every instance.
///  - Equal costs and sizes: Revolve's t(T, c), for every T <= 60 and c <= 8.
///  - Unequal sizes, beyond the nested class: in 1 instance of 1,476 a stream that frees or
///    places checkpoints across segments was cheaper, by 0.6%.
///
/// Cost:
///  - Tables: 2 T (T - 1) / 2 (M + 1) bytes of splits, plus the values of at most u_max + 4
///    memory planes (8 T (T + 1) / 2 bytes each; twice that for the full search, which keeps
///    them by start and by end), for M = budget / unit and u_max the largest state in units.
///    Freed when the constructor returns; the stream is kept (O(actions)).
///  - Time, unequal sizes: the full split search, O(T^3 M / 6), over contiguous rows; T = 1000
///    with M = 30 takes 3 to 5 s on 2 cores.
///  - Time, equal sizes: the split of (i, j) is searched only between those of (i, j - 1) and
///    (i + 1, j) (Knuth-Yao bounds), amortised O(T^2 M). This property is not proven here; the
///    tests compare it with the full search, stream for stream, on random chains
///    (exhaustive_splits forces the full search).
///  - Threads: from T = 200, the memory planes are filled by up to 4 threads, each a plane behind
///    the other.
///  - Measured: T = 2000 with M = 100 (equal sizes) takes about 0.9 to 1.3 s on 2 cores, in
///    427 MiB (docs/benchmarks.md); the first, cubic version took 184 s and 2.3 GB.
/// Throws std::length_error when the tables would exceed max_table_bytes.
class HeterogeneousRevolve final : public Schedule {
 public:
  static constexpr std::size_t default_max_table_bytes = std::size_t{1} << 30;

  /// memory_unit 0 means the greatest common divisor of the sizes (exact); any other unit rounds
  /// sizes up and the budget down. Throws std::invalid_argument for no steps, negative or
  /// non-finite costs, a zero size, or a budget smaller than x_0's size (x_0 must be kept).
  /// exhaustive_splits: search every split even when the sizes are equal (see the class comment).
  HeterogeneousRevolve(std::vector<ChainStep> chain, std::uint64_t budget_bytes,
                       std::uint64_t memory_unit = 0,
                       std::size_t max_table_bytes = default_max_table_bytes,
                       bool exhaustive_splits = false);

  Action next() override;
  void reset() override { position_ = 0; }
  const char* name() const noexcept override { return "heterogeneous"; }

  std::int64_t steps() const noexcept { return static_cast<std::int64_t>(chain_.size()); }
  const std::vector<ChainStep>& chain() const noexcept { return chain_; }
  /// The optimum: sum of f over the stream's advances plus sum of b.
  double optimal_cost() const noexcept { return optimal_cost_; }
  /// Most checkpoints held at once (the slots the stream uses, level 0).
  std::int64_t slots() const noexcept { return peak_slots_; }
  /// Most bytes of checkpoints held at once (<= the budget).
  std::uint64_t peak_bytes() const noexcept { return peak_bytes_; }
  std::uint64_t memory_unit() const noexcept { return unit_; }
  std::size_t table_bytes() const noexcept { return table_bytes_; }
  std::size_t action_count() const noexcept { return actions_.size(); }
  /// Whether the split search was bounded (equal sizes, exhaustive_splits not asked for).
  bool bounded_search() const noexcept { return bounded_search_; }

 private:
  std::vector<ChainStep> chain_;
  std::uint64_t unit_ = 1;
  double optimal_cost_ = 0;
  std::int64_t peak_slots_ = 0;
  std::uint64_t peak_bytes_ = 0;
  std::size_t table_bytes_ = 0;
  bool bounded_search_ = false;
  std::vector<Action> actions_;
  std::size_t position_ = 0;
};

}  // namespace cairn
