// The stage formulation of graph_milp.hpp as plain data: columns, rows and the map from the
// model's variables to columns, independent of the solver that reads it.
#pragma once

#include <cstdint>
#include <vector>

#include "cairn/graph.hpp"

namespace cairn::detail {

/// Stage s = 0..n-1 ends with backward(top(s)), top(s) = n - 1 - s; nodes v <= top(s) are
/// active in it. Variables (column index, or -1 where the variable does not exist):
///   R[s][v]  1 if v is recorded in stage s (v <= top(s))                  binary
///   C[s][v]  1 if v is computed without a tape in stage s (v < top(s))     binary
///   S[s][v]  v's output is held at the start of stage s (s >= 1, v < top(s))  in [0, 1]
///   T[s][v]  v's tape is held at the start of stage s (s >= 1, v <= top(s))   in [0, 1]
///   A[s][i][k - i]  i's output is held after the frees that follow position k of stage s,
///            for i < top(s) and i <= k <= last(s, i), the last active consumer of i (past it,
///            nothing changes until the stage's backward)                   in [0, 1]
/// S, T and A are continuous: with R and C integral, their least values are 0/1 and feasible.
struct StageModel {
  std::int64_t n = 0;
  std::uint64_t unit = 1;  ///< bytes per memory unit: the gcd of every size (exact)
  std::vector<std::vector<int>> R, C, S, T, A;
  std::vector<std::vector<std::int64_t>> last;  ///< last[s][i]
  int peak_column = -1;                         ///< the peak, in min-peak mode

  std::vector<double> column_lower, column_upper, objective;
  std::vector<char> integer;
  double objective_offset = 0;  ///< sum b (not in the columns)

  /// Rows lower <= sum value * x[column] <= upper, in triplets.
  std::vector<int> entry_row, entry_column;
  std::vector<double> entry_value;
  std::vector<double> row_lower, row_upper;
  /// For memory rows, the constant bytes (in units) left out of the sum; -1 marks other rows.
  std::vector<double> memory_constant;

  int a(std::int64_t s, std::int64_t i, std::int64_t k) const;  ///< A's column at min(k, last)
  int columns() const { return static_cast<int>(objective.size()); }
  int rows() const { return static_cast<int>(row_lower.size()); }
};

/// The model with memory rows <= budget_units, minimising the forward cost; or, with
/// min_peak, with memory rows <= the peak column, minimising it.
StageModel build_stage_model(const Graph& graph, std::uint64_t budget_bytes, bool min_peak);

/// The least S, T, A (and peak) consistent with the 0/1 choices R and C of `x`, rounded.
std::vector<double> least_completion(const Graph& graph, const StageModel& model,
                                     const std::vector<double>& x);

/// The row activities of x: the largest memory row's bytes, and the largest violation of any row.
struct RowCheck {
  std::uint64_t peak_bytes = 0;
  double worst_violation = 0;
  int worst_row = -1;
};
RowCheck check_rows(const StageModel& model, const std::vector<double>& x);

/// The stream of x's choices (compute, record, backward; no frees).
std::vector<GraphAction> stage_stream(const StageModel& model, const std::vector<double>& x);

/// The R and C of a stream without frees if it is a stage plan (backwards in decreasing order,
/// increasing nodes between two, each once), else empty.
std::vector<double> stage_choices(const StageModel& model, const std::vector<GraphAction>& stream);

}  // namespace cairn::detail
