// A process that evolves in time and in depth: the T x L grid of cells
//   h[t][l] = cell_l(h[t-1][l], h[t][l-1]),   t = 0..T-1, l = 0..L-1,
// a stacked recurrent network (h[-1][l] its initial states, h[t][-1] its input sequence) or a time
// stepper whose every step runs L inner stages. This header states the grid's model once: the
// actions a grid schedule emits, and the checker that replays and prices them (docs/grid.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cairn {

/// What one cell of layer l costs. Cells of one layer are alike; layers may differ.
struct GridLayer {
  double forward_cost = 1;        ///< one evaluation of cell_l, >= 0 and finite
  double backward_cost = 1;       ///< its vector-Jacobian product, >= 0 and finite
  std::uint64_t state_bytes = 1;  ///< the state h[t][l] (and its adjoint), >= 1
  std::uint64_t tape_bytes = 0;   ///< what a taped evaluation holds while it is reversed
};

/// T x L cells. Cell (t, l) reads (t - 1, l) ("left") and (t, l - 1) ("below"); the inputs at
/// t = -1 and l = -1 are the caller's, always available and not counted. The last cell
/// (T - 1, L - 1) is the output, whose adjoint the caller seeds (a loss summed over time is a top
/// layer with a one-number state that accumulates it).
class GridShape {
 public:
  /// Throws std::invalid_argument unless steps >= 1, layers.size() >= 1, steps * layers fits in
  /// an int64, and every layer's costs are finite and >= 0 with state_bytes >= 1.
  GridShape(std::int64_t steps, std::vector<GridLayer> layers);
  /// L layers of unit costs and one-byte states.
  static GridShape uniform(std::int64_t steps, std::int64_t layers);

  std::int64_t steps() const noexcept { return steps_; }                                     ///< T
  std::int64_t depth() const noexcept { return static_cast<std::int64_t>(layers_.size()); }  ///< L
  std::int64_t cells() const noexcept { return steps_ * depth(); }
  const GridLayer& layer(std::int64_t l) const;  ///< throws std::out_of_range
  const std::vector<GridLayer>& layers() const noexcept { return layers_; }
  /// Bytes of one column h[t][0..L-1].
  std::uint64_t column_bytes() const noexcept { return column_bytes_; }
  /// Flat index t * L + l, the order in which cells are numbered everywhere.
  std::int64_t index(std::int64_t t, std::int64_t l) const noexcept { return t * depth() + l; }

 private:
  std::int64_t steps_ = 0;
  std::vector<GridLayer> layers_;
  std::uint64_t column_bytes_ = 0;
};

/// What a grid schedule asks the driver to do with cell (t, l).
enum class GridActionKind : std::uint8_t {
  compute,  ///< evaluate the cell (no tape): its inputs are held, its output becomes held
  free,     ///< release the cell's held output
  reverse,  ///< taped evaluation and vector-Jacobian product of the cell (inputs held, the
            ///< cells that read it already reversed): adjoints flow to its inputs
};

struct GridAction {
  GridActionKind kind = GridActionKind::compute;
  std::int32_t layer = 0;
  std::int64_t step = 0;
};

constexpr bool operator==(const GridAction& a, const GridAction& b) noexcept {
  return a.kind == b.kind && a.layer == b.layer && a.step == b.step;
}
constexpr bool operator!=(const GridAction& a, const GridAction& b) noexcept {
  return !(a == b);
}

/// "compute", "free", "reverse".
const char* to_string(GridActionKind kind) noexcept;

/// The verdict of check_grid() on a stream, and what it costs.
struct GridCosts {
  bool legal = false;
  std::int64_t first_illegal_index = -1;  ///< 0-based, or -1
  std::string reason;                     ///< empty when legal
  std::int64_t computes = 0, frees = 0, reverses = 0;
  /// Computes beyond store-all's T L - 1 (store-all evaluates every cell but the last once).
  std::int64_t recomputes = 0;
  std::int64_t max_computes_per_cell = 0;  ///< the repetition number (reverses not counted)
  double forward_cost = 0;                 ///< sum of forward_cost over computes
  double reverse_cost = 0;                 ///< sum of forward_cost + backward_cost over reverses
  double cost = 0;                         ///< forward_cost + reverse_cost
  /// The most state bytes held at once: outputs held, plus the output a compute is writing.
  std::uint64_t peak_state_bytes = 0;
  std::int64_t peak_state_cells = 0;  ///< the same in cells
  /// Adjoints held at once: a cell's adjoint lives from the first reverse of a cell reading it
  /// (for the last cell, its own reverse) until its own reverse.
  std::uint64_t peak_adjoint_bytes = 0;
  /// Everything at once: states + adjoints + the tape of a cell being reversed (with the new
  /// adjoints of its inputs, before its own adjoint is released).
  std::uint64_t peak_bytes = 0;
};

/// Replays a stream with nothing held at the start. Rules:
///  - compute(t, l): both inputs available (held, or the caller's at t = 0 / l = 0), the output
///    not held; then held.
///  - free(t, l): the output is held; then released.
///  - reverse(t, l): not reversed yet; (t + 1, l) and (t, l + 1), where they exist, reversed;
///    both inputs available. The cell's own output need not be held (the taped evaluation makes
///    it), and stays as it was.
///  - Complete when every cell has been reversed; what is held then does not matter.
/// An incomplete stream is reported illegal with first_illegal_index = the number of actions.
GridCosts check_grid(const GridShape& shape, const std::vector<GridAction>& actions);

}  // namespace cairn
