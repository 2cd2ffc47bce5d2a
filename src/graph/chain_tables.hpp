// The dynamic program behind plan_chain (include/cairn/chain_plan.hpp states the recursion and
// the class it is optimal in): a chain in memory units, the tables filled a memory plane at a time,
// and the least memory of the class.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

namespace cairn {
class Graph;
}

namespace cairn::detail {

/// A chain of layers with its sizes in memory units.
struct ChainUnits {
  std::vector<double> forward, backward;
  std::vector<std::int64_t> output, tape;
  // Scratch held only while a node is computed, recorded, or run backward.
  std::vector<std::int64_t> compute_workspace, record_workspace, backward_workspace;
  // 1 where the tape keeps the node's output (tape_holds_output): held until its backward.
  std::vector<std::int64_t> holds_output;
  // The network output's gradient, where the caller keeps it from the last node's backward to
  // the end (Graph::output_gradient_held), else 0.
  std::int64_t held_gradient = 0;

  std::int64_t size() const noexcept { return static_cast<std::int64_t>(output.size()); }
  /// in(s): the output of s - 1 (the network's input, s = 0, is the caller's and costs nothing).
  std::int64_t input(std::int64_t s) const noexcept {
    return s > 0 ? output[static_cast<std::size_t>(s - 1)] : 0;
  }
  /// g(t): the gradient buffer held while segment [s, t] is reversed (the loss provides the last
  /// node's, which exists only from its backward on).
  std::int64_t gradient(std::int64_t t) const noexcept {
    return t + 1 < size() ? output[static_cast<std::size_t>(t)] : 0;
  }
  /// What a segment ending at t holds beyond in(s) and g(t) once its last node has been run
  /// backward: the kept output gradient for a segment ending at the last node. A segment ending
  /// earlier is reversed after that backward, so its caller has taken the gradient out of its m.
  std::int64_t kept_gradient(std::int64_t t) const noexcept {
    return t + 1 == size() ? held_gradient : 0;
  }
  /// The peak of reversing the one-node segment [t, t]: record, free (the last node's output
  /// may not be freed before its backward), backward.
  std::int64_t single_need(std::int64_t t) const noexcept;
  /// The peak of option (a) at s beyond its sub-problem: backward(s) with its tape, its
  /// workspace and the new gradient buffer.
  std::int64_t record_need(std::int64_t s) const noexcept;
  /// The peak of record(s) in option (a) for the segment [s, t]: in(s) and g(t) held, s's
  /// output, tape and record workspace allocated.
  std::int64_t record_peak(std::int64_t s, std::int64_t t) const noexcept {
    const auto i = static_cast<std::size_t>(s);
    return input(s) + gradient(t) + output[i] + tape[i] + record_workspace[i];
  }
  /// What compute(j) adds in a forward sweep beyond in(s) and g(t): its output and workspace
  /// beside the output of j - 1 that it reads (j > s), or beside nothing (j = s).
  std::int64_t sweep_step(std::int64_t s, std::int64_t j) const noexcept {
    const auto i = static_cast<std::size_t>(j);
    return (j > s ? output[i - 1] : 0) + output[i] + compute_workspace[i];
  }
};

/// The chain's layers in units of `unit` bytes, sizes rounded up (plan_chain's view of a Graph
/// that is a chain).
ChainUnits chain_units(const Graph& chain, std::uint64_t unit);

/// The least m for which Opt(0, L - 1, m) is finite: the same recursion on memory alone, every
/// split searched (O(L^3) integer steps, 8 L^2 bytes; std::length_error past max_bytes).
std::int64_t least_memory(const ChainUnits& chain, std::size_t max_bytes);

/// The peak of the plan that records every node (the class's store-all): Opt is constant from
/// there on.
std::int64_t store_all_memory(const ChainUnits& chain);

/// A split of a segment and what it costs.
struct LeastSplit {
  std::int64_t split = -1;  ///< -1: every split's cost is infinite, or there is none
  double cost = std::numeric_limits<double>::infinity();
};

/// The full search's inner loop: the split k in lo..hi of least cost base + prefix[k] + right[k]
/// + left[k - lo], each sum taken in that order, the first of them on ties (what one pass keeping
/// the first strict improvement finds).
LeastSplit least_cost_split(double base, const double* prefix, const double* right,
                            const double* left, std::int64_t lo, std::int64_t hi);

/// One state (s, t, m) as the full search saw it: its least cost, the record option's included,
/// and what each of its splits lo..hi costs (bench/chain_split_landscape.cpp studies them).
struct SplitCosts {
  std::int64_t s, t, m;
  double best;
  double base;
  const double *prefix, *right, *left;
  std::int64_t lo, hi;
  /// The split's cost, as the search sums it.
  double cost(std::int64_t k) const { return base + prefix[k] + right[k] + left[k - lo]; }
};

/// Opt(s, t, m) for every segment and every m in [0, memory]; keeps the decisions of every plane
/// and the values of the last few.
class ChainTables {
 public:
  /// Throws std::length_error when the tables would take more than max_bytes. threads: how many
  /// fill the planes at once (0: as many as the machine has cores, at most 4, from 200 layers on).
  ChainTables(const ChainUnits& chain, std::int64_t memory, std::size_t max_bytes, bool bounded,
              unsigned threads = 0);

  /// Called by the full search for every state with a split to search, from the thread that
  /// fills its plane, once the state is final (none by default).
  void observe(std::function<void(const SplitCosts&)> observer) { observer_ = std::move(observer); }
  void fill();
  /// Opt(0, L - 1, memory) after fill().
  double optimum() const;
  /// 0: record s first (or the one-node segment), else k - s: sweep to k and keep in(k).
  std::uint16_t decision(std::int64_t s, std::int64_t t, std::int64_t m) const {
    return decisions_[static_cast<std::size_t>(m) * segments_ + row_index(s, t)];
  }
  std::size_t bytes() const noexcept { return bytes_; }
  unsigned threads() const noexcept { return threads_; }

 private:
  std::size_t row_index(std::int64_t s, std::int64_t t) const noexcept {
    return row_start_[static_cast<std::size_t>(s)] + static_cast<std::size_t>(t - s);
  }
  std::size_t column_index(std::int64_t s, std::int64_t t) const noexcept {
    return column_start_[static_cast<std::size_t>(t)] + static_cast<std::size_t>(s);
  }
  double* by_row(std::int64_t m) { return by_row_.get() + ring(m) * segments_; }
  double* by_column(std::int64_t m) { return by_column_.get() + ring(m) * segments_; }
  std::size_t ring(std::int64_t m) const noexcept { return static_cast<std::size_t>(m) % ring_; }
  std::int32_t* splits(std::int64_t m) noexcept {
    return split_.get() + (static_cast<std::size_t>(m) % (threads_ + 1)) * segments_;
  }
  void fill_plane(std::int64_t m);

  const ChainUnits& chain_;
  std::function<void(const SplitCosts&)> observer_;
  std::int64_t length_ = 0, memory_ = 0;
  bool bounded_ = false;
  unsigned threads_ = 1;
  std::size_t segments_ = 0, ring_ = 1, bytes_ = 0;
  std::vector<std::size_t> row_start_, column_start_;
  std::vector<double> prefix_;  // prefix_[k] = f_0 + ... + f_{k-1}
  // farthest_[s * (memory + 1) + w]: the largest k <= L - 1 whose forward sweep s..k - 1 fits in
  // w units beside in(s) and g(t) (s when none does).
  std::vector<std::int32_t> farthest_;
  std::unique_ptr<std::uint16_t[]> decisions_;
  std::unique_ptr<double[]> by_row_, by_column_;
  // Each plane's best k (-1: none), for the bounded search's bounds: one plane per thread and the
  // plane below the oldest.
  std::unique_ptr<std::int32_t[]> split_;
  // done_[m]: how many rows (from the last start down) of plane m are final; release / acquire
  // between the threads.
  std::unique_ptr<std::atomic<std::int64_t>[]> done_;
};

}  // namespace cairn::detail
