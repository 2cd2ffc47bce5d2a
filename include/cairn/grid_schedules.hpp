// Schedules for the T x L grid of grid.hpp, as complete streams of GridActions, and their costs
// in closed form (docs/grid.md derives them).
//
// Every schedule here reverses the cells of each layer in decreasing time, so a per-layer sum
// of parameter gradients accumulates in the same order under every schedule (what makes a
// driver's gradients bitwise equal to store-all's).
//
// Streams are vectors, 16 bytes per action: about 3 actions per cell for store-all, 4-5 for the
// blocked scheme, more for nested Revolve (one per recomputation).
#pragma once

#include <cstdint>
#include <vector>

#include "cairn/grid.hpp"

namespace cairn {

/// Evaluate every cell but the last once, column by column, holding all; then reverse them in
/// decreasing time, each column from the top layer down, freeing a cell once every cell that
/// reads it has been reversed. T L - 1 computes, no recomputation.
std::vector<GridAction> grid_store_all(const GridShape& shape);

/// Exact counts of the blocked scheme (see grid_blocked), by formula.
struct BlockedCosts {
  std::int64_t block_steps = 0, block_layers = 0;  ///< bt, bl as given
  std::int64_t computes = 0;                       ///< T L - 1 + recomputes
  std::int64_t recomputes = 0;                     ///< beyond store-all's T L - 1
  std::int64_t max_computes_per_cell = 0;
  std::int64_t checkpoint_cells = 0;  ///< cells on block boundaries kept from the forward sweep
  std::uint64_t checkpoint_bytes = 0;
  double forward_cost = 0;             ///< sum of forward_cost over computes
  std::uint64_t peak_state_bytes = 0;  ///< check_grid's peak_state_bytes of the stream
};

/// Blocks of bt steps by bl layers, the first block in each direction taking the remainder
/// (so the block reversed first is a whole one). The forward sweep goes block by block (time
/// blocks outer, layer blocks inner; each block column by column), keeping the cells that a
/// later block reads (each block's last column and top row) and every cell of the last block.
/// The reverse sweep takes the blocks in the reverse order; each block's cells are recomputed
/// from the kept boundaries (all but its top-right corner, which no cell of it reads), then
/// reversed in decreasing time, each column from the top down. Throws std::invalid_argument
/// unless 1 <= bt <= T and 1 <= bl <= L.
std::vector<GridAction> grid_blocked(const GridShape& shape, std::int64_t block_steps,
                                     std::int64_t block_layers);
BlockedCosts blocked_costs(const GridShape& shape, std::int64_t block_steps,
                           std::int64_t block_layers);

/// The block sizes with the least forward cost whose peak_state_bytes is at most the budget
/// (ties: the smaller peak, then the smaller bt, then bl), by search over every (bt, bl) with
/// the formulas (O(T L log T log L)). Throws std::invalid_argument when no block sizes fit,
/// saying what the least peak of the scheme is.
BlockedCosts optimal_block_sizes(const GridShape& shape, std::uint64_t budget_state_bytes);

/// The continuous optimum of J(bt, bl) = alpha M + beta R for equal layers (docs/grid.md): M and
/// R the leading terms of the peak cells and recomputed cells. For alpha > beta,
/// bt = bl = ((1 - beta / alpha) T L)^(1/3), clamped to the grid (bl = L gives
/// bt = ((1 - beta / alpha) T)^(1/2)); for alpha <= beta, 1 x 1 (store-all).
struct ContinuousBlockOptimum {
  double block_steps = 0, block_layers = 0, objective = 0;
};
ContinuousBlockOptimum continuous_block_optimum(std::int64_t steps, std::int64_t layers,
                                                double alpha, double beta);

/// Nested Revolve. time_outer: Revolve over time with `outer_slots` column checkpoints (the
/// slot of the caller's h[-1] counts as one, as Revolve's x_0 does, but holds no memory here),
/// and each reversed column step reversed by Revolve over depth with `inner_slots` cell slots
/// (the slot of the input h[t][-1] likewise). depth_outer is the transposed order: Revolve over
/// depth with rows h[0..T-1][l] as states, each row reversed by Revolve over time.
enum class GridNesting : std::uint8_t { time_outer, depth_outer };

struct NestedCosts {
  GridNesting nesting = GridNesting::time_outer;
  std::int64_t outer_slots = 0, inner_slots = 0;
  std::int64_t computes = 0, recomputes = 0, max_computes_per_cell = 0;
  double forward_cost = 0;
  std::uint64_t peak_state_bytes = 0;
};

/// Throws std::invalid_argument unless outer_slots >= 1 and inner_slots >= 1 (slots beyond
/// the dimension's length are not used).
std::vector<GridAction> grid_nested(const GridShape& shape, GridNesting nesting,
                                    std::int64_t outer_slots, std::int64_t inner_slots);
NestedCosts nested_costs(const GridShape& shape, GridNesting nesting, std::int64_t outer_slots,
                         std::int64_t inner_slots);
/// The slot split with the least forward cost whose peak fits the budget (ties: smaller peak).
NestedCosts optimal_nested_slots(const GridShape& shape, GridNesting nesting,
                                 std::uint64_t budget_state_bytes);

}  // namespace cairn
