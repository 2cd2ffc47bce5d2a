// The blocked grid scheme: checkpoints on block boundaries, recomputation inside blocks
// (grid_schedules.hpp for the stream, docs/grid.md for the counts derived here).
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/grid_schedules.hpp"
#include "grid/grid_stream.hpp"

namespace cairn {
namespace {

// Blocks of `size` along an axis of `length`, the first one taking the remainder: block k spans
// [begin(k), end(k)).
struct Axis {
  std::int64_t length, size, count;
  Axis(std::int64_t length_, std::int64_t size_)
      : length(length_), size(size_), count((length_ + size_ - 1) / size_) {}
  std::int64_t end(std::int64_t k) const noexcept { return length - (count - 1 - k) * size; }
  std::int64_t begin(std::int64_t k) const noexcept {
    return std::max<std::int64_t>(0, end(k) - size);
  }
  std::int64_t width(std::int64_t k) const noexcept { return end(k) - begin(k); }
};

void check_sizes(const GridShape& shape, std::int64_t bt, std::int64_t bl, const char* who) {
  if (bt < 1 || bt > shape.steps() || bl < 1 || bl > shape.depth()) {
    throw std::invalid_argument(
        std::string(who) + ": block sizes must satisfy 1 <= bt <= T = " +
        std::to_string(shape.steps()) + " and 1 <= bl <= L = " + std::to_string(shape.depth()) +
        ", got bt = " + std::to_string(bt) + ", bl = " + std::to_string(bl));
  }
}

// The per-layer sums the formulas need, computed once per bl.
struct LayerBlocks {
  Axis axis;
  std::vector<std::uint64_t> prefix_bytes;  // prefix_bytes[l] = bytes of layers 0..l-1
  std::vector<double> forward;              // forward cost per layer
  LayerBlocks(const GridShape& shape, std::int64_t bl) : axis(shape.depth(), bl) {
    prefix_bytes.assign(static_cast<std::size_t>(shape.depth()) + 1, 0);
    for (std::int64_t l = 0; l < shape.depth(); ++l) {
      prefix_bytes[static_cast<std::size_t>(l) + 1] =
          prefix_bytes[static_cast<std::size_t>(l)] + shape.layer(l).state_bytes;
      forward.push_back(shape.layer(l).forward_cost);
    }
  }
  std::uint64_t bytes(std::int64_t from, std::int64_t to) const noexcept {  // layers [from, to)
    return prefix_bytes[static_cast<std::size_t>(to)] -
           prefix_bytes[static_cast<std::size_t>(from)];
  }
};

BlockedCosts blocked_costs_with(const GridShape& shape, std::int64_t bt, const LayerBlocks& lb) {
  const std::int64_t T = shape.steps(), L = shape.depth();
  const Axis time(T, bt);
  const Axis& depth = lb.axis;
  const std::int64_t nT = time.count, nL = depth.count;
  BlockedCosts c;
  c.block_steps = bt;
  c.block_layers = depth.size;

  // Checkpoints: the last column of every time block but the last, the top row of every layer
  // block but the last.
  const auto top = [&](std::int64_t J) { return depth.end(J) - 1; };
  const auto top_bytes = [&](std::int64_t J) { return lb.bytes(top(J), top(J) + 1); };
  std::uint64_t top_rows_bytes = 0;  // one cell of every stored top row
  for (std::int64_t J = 0; J + 1 < nL; ++J) top_rows_bytes += top_bytes(J);
  c.checkpoint_cells = (nT - 1) * L + (nL - 1) * T - (nT - 1) * (nL - 1);
  c.checkpoint_bytes = static_cast<std::uint64_t>(nT - 1) * shape.column_bytes() +
                       static_cast<std::uint64_t>(T) * top_rows_bytes -
                       static_cast<std::uint64_t>(nT - 1) * top_rows_bytes;
  // ck(I, J): the checkpoint bytes of block (I, J).
  const auto ck = [&](std::int64_t I, std::int64_t J) {
    std::uint64_t bytes = 0;
    if (I + 1 < nT) bytes += lb.bytes(depth.begin(J), depth.end(J));
    if (J + 1 < nL) bytes += static_cast<std::uint64_t>(time.width(I)) * top_bytes(J);
    if (I + 1 < nT && J + 1 < nL) bytes -= top_bytes(J);
    return bytes;
  };
  // Checkpoint bytes of the time blocks before I (forward order: time blocks outer).
  std::uint64_t first_row_bytes = 0, middle_row_bytes = 0;
  for (std::int64_t J = 0; J < nL; ++J) {
    first_row_bytes += ck(0, J);
    if (nT > 2) middle_row_bytes += ck(1, J);
  }
  const auto rows_before = [&](std::int64_t I) {
    return I == 0 ? 0 : first_row_bytes + static_cast<std::uint64_t>(I - 1) * middle_row_bytes;
  };

  // Recomputation: in block (I, J) (not the last) every cell but the held boundary and the
  // corner, i.e. per row of the block w - [I < nT - 1] cells, none in a stored top row.
  double forward_cost = 0;
  std::int64_t computes = T * L - 1;
  for (std::int64_t l = 0; l < L; ++l)
    forward_cost += static_cast<double>(T) * lb.forward[static_cast<std::size_t>(l)];
  forward_cost -= lb.forward[static_cast<std::size_t>(L - 1)];
  std::int64_t recomputes = 0;
  const auto recomputed_per_row = [&](std::int64_t I) {
    return time.width(I) - (I + 1 < nT ? 1 : 0);
  };
  // Summed over every time block, and over all but the last (whose top block is kept).
  const std::int64_t per_row_all = T - nT + 1, per_row_not_last = per_row_all - bt;
  for (std::int64_t J = 0; J < nL; ++J) {
    for (std::int64_t l = depth.begin(J); l < depth.end(J); ++l) {
      std::int64_t n = 0;
      if (J + 1 < nL) {
        if (l != top(J)) n = per_row_all;
      } else {
        n = per_row_not_last;
      }
      recomputes += n;
      forward_cost += static_cast<double>(n) * lb.forward[static_cast<std::size_t>(l)];
    }
  }
  c.recomputes = recomputes;
  c.computes = computes + recomputes;
  c.forward_cost = forward_cost;
  c.max_computes_per_cell = c.computes == 0 ? 0 : (recomputes > 0 ? 2 : 1);

  // Peak of held state bytes: the largest of the forward sweep inside each block, the end of
  // the forward sweep, and each block's recomputed interior; between blocks of the same kind
  // the checkpoints held only grow forward and shrink backward, so the candidates are the
  // first two and last two time blocks.
  std::uint64_t peak = 0;
  const std::int64_t last_I = nT - 1, last_J = nL - 1;
  for (std::int64_t I = 0; I < nT; ++I) {
    if (I >= 2 && I + 2 < nT) continue;
    std::uint64_t base = rows_before(I);  // checkpoints of the blocks before (I, J)
    for (std::int64_t J = 0; J < nL; base += ck(I, J), ++J) {
      if (I == last_I && J == last_J) continue;
      const std::int64_t t0 = time.begin(I), t1 = time.end(I);
      const std::int64_t l0 = depth.begin(J), l1 = depth.end(J);
      const bool stores_top = J + 1 < nL, stores_right = I + 1 < nT;
      // Forward, column t: held = checkpoints before + stored top cells of earlier columns +
      // previous column's unstored cells from l up + this column up to l.
      const auto column_peak = [&](std::int64_t t) {
        std::uint64_t best = 0;
        for (std::int64_t l = l0; l < l1; ++l) {
          std::uint64_t held = base;
          if (stores_top) held += static_cast<std::uint64_t>(t - t0) * top_bytes(J);
          if (t > t0) held += lb.bytes(l, stores_top ? l1 - 1 : l1);
          if (t == t1 - 1 && !stores_right) {
            if (l > l0) held += lb.bytes(l - 1, l);
          } else {
            held += lb.bytes(l0, l);
          }
          held += lb.bytes(l, l + 1);
          best = std::max(best, held);
        }
        return best;
      };
      peak = std::max(peak, column_peak(t0));
      if (t1 - 2 > t0) peak = std::max(peak, column_peak(t1 - 2));
      if (t1 - 1 > t0) peak = std::max(peak, column_peak(t1 - 1));
      // Reverse: the checkpoints of the unreversed blocks, less the corners already freed (this
      // block's, and that of the top block one time block back once the top blocks of this time
      // block are reversed), plus the recomputed cells.
      std::uint64_t held = base + ck(I, J) - top_bytes(J);
      if (I >= 1 && J + 1 < nL) held -= top_bytes(nL - 1);
      const std::uint64_t per_row = static_cast<std::uint64_t>(recomputed_per_row(I));
      const std::uint64_t rows = stores_top ? lb.bytes(l0, l1 - 1) : lb.bytes(l0, l1);
      held += per_row * rows;
      peak = std::max(peak, held);
    }
  }
  // The end of the forward sweep: every checkpoint and the whole last block but its last cell.
  const std::uint64_t last_block =
      static_cast<std::uint64_t>(time.width(last_I)) * lb.bytes(depth.begin(last_J), L) -
      lb.bytes(L - 1, L);
  peak = std::max(peak, c.checkpoint_bytes + last_block);
  c.peak_state_bytes = peak;
  return c;
}

}  // namespace

std::vector<GridAction> grid_blocked(const GridShape& shape, std::int64_t bt, std::int64_t bl) {
  check_sizes(shape, bt, bl, "grid_blocked");
  const std::int64_t T = shape.steps(), L = shape.depth();
  const Axis time(T, bt), depth(L, bl);
  const std::int64_t nT = time.count, nL = depth.count;
  const auto kept = [&](std::int64_t t, std::int64_t l) {
    const std::int64_t I = nT - 1 - (T - 1 - t) / bt, J = nL - 1 - (L - 1 - l) / bl;
    if (I == nT - 1 && J == nL - 1) return true;
    return (I + 1 < nT && t == time.end(I) - 1) || (J + 1 < nL && l == depth.end(J) - 1);
  };
  detail::GridStream stream(shape);
  std::vector<std::uint8_t> computed(static_cast<std::size_t>(shape.cells()), 0);
  const auto done = [&](std::int64_t t, std::int64_t l) {  // computed, or outside the grid
    return t >= T || l >= L || computed[static_cast<std::size_t>(shape.index(t, l))] != 0;
  };
  // Forward: block by block; an unkept cell is freed once both cells reading it are computed.
  for (std::int64_t I = 0; I < nT; ++I) {
    for (std::int64_t J = 0; J < nL; ++J) {
      for (std::int64_t t = time.begin(I); t < time.end(I); ++t) {
        for (std::int64_t l = depth.begin(J); l < depth.end(J); ++l) {
          if (t == T - 1 && l == L - 1) continue;
          stream.compute(t, l);
          computed[static_cast<std::size_t>(shape.index(t, l))] = 1;
          if (t > 0 && !kept(t - 1, l) && done(t - 1, l + 1)) stream.free(t - 1, l);
          if (l > 0 && !kept(t, l - 1) && done(t + 1, l - 1)) stream.free(t, l - 1);
        }
      }
    }
  }
  // Reverse: blocks in the reverse order, each recomputed (but its corner) and reversed.
  for (std::int64_t I = nT - 1; I >= 0; --I) {
    for (std::int64_t J = nL - 1; J >= 0; --J) {
      const std::int64_t t0 = time.begin(I), t1 = time.end(I);
      const std::int64_t l0 = depth.begin(J), l1 = depth.end(J);
      for (std::int64_t t = t0; t < t1; ++t) {
        for (std::int64_t l = l0; l < l1; ++l) {
          if ((t != t1 - 1 || l != l1 - 1) && !stream.held(t, l)) stream.compute(t, l);
        }
      }
      for (std::int64_t t = t1 - 1; t >= t0; --t) {
        for (std::int64_t l = l1 - 1; l >= l0; --l) stream.reverse(t, l);
      }
    }
  }
  return stream.take();
}

BlockedCosts blocked_costs(const GridShape& shape, std::int64_t bt, std::int64_t bl) {
  check_sizes(shape, bt, bl, "blocked_costs");
  return blocked_costs_with(shape, bt, LayerBlocks(shape, bl));
}

BlockedCosts optimal_block_sizes(const GridShape& shape, std::uint64_t budget) {
  BlockedCosts best;
  bool found = false;
  std::uint64_t least_peak = std::numeric_limits<std::uint64_t>::max();
  for (std::int64_t bl = 1; bl <= shape.depth(); ++bl) {
    const LayerBlocks lb(shape, bl);
    for (std::int64_t bt = 1; bt <= shape.steps(); ++bt) {
      const BlockedCosts c = blocked_costs_with(shape, bt, lb);
      least_peak = std::min(least_peak, c.peak_state_bytes);
      if (c.peak_state_bytes > budget) continue;
      if (!found || c.forward_cost < best.forward_cost ||
          (c.forward_cost == best.forward_cost && c.peak_state_bytes < best.peak_state_bytes)) {
        best = c;
        found = true;
      }
    }
  }
  if (!found) {
    throw std::invalid_argument("optimal_block_sizes: no block sizes fit a budget of " +
                                std::to_string(budget) + " state bytes; the blocked scheme needs " +
                                std::to_string(least_peak) + " at least on this grid");
  }
  return best;
}

ContinuousBlockOptimum continuous_block_optimum(std::int64_t steps, std::int64_t layers,
                                                double alpha, double beta) {
  if (steps < 1 || layers < 1 || !(alpha > 0) || !(beta >= 0) || !std::isfinite(alpha) ||
      !std::isfinite(beta)) {
    throw std::invalid_argument(
        "continuous_block_optimum: needs T >= 1, L >= 1, alpha > 0 and beta >= 0 (finite)");
  }
  const double T = static_cast<double>(steps), L = static_cast<double>(layers);
  // Leading terms (docs/grid.md): M = T L / bt + T L / bl + bt bl (the boundaries and one
  // block), R = T L (1 - 1 / bt - 1 / bl) (every cell recomputed once but the boundaries). A
  // block as deep as the grid has no row boundaries: M = T L / bt + bt L, R = T L (1 - 1 / bt);
  // likewise one as long.
  const auto J = [&](double bt, double bl) {
    double M = bt * bl, R = T * L;
    if (bt < T) M += T * L / bt, R -= T * L / bt;
    if (bl < L) M += T * L / bl, R -= T * L / bl;
    return alpha * M + beta * R;
  };
  ContinuousBlockOptimum o;
  o.block_steps = o.block_layers = 1;
  if (alpha > beta) {
    const double k = 1 - beta / alpha;
    const double b = std::cbrt(k * T * L);
    o.block_steps = o.block_layers = b;
    if (b > L) o.block_layers = L, o.block_steps = std::sqrt(k * T);
    if (b > T) o.block_steps = T, o.block_layers = std::sqrt(k * L);
    o.block_steps = std::clamp(o.block_steps, 1.0, T);
    o.block_layers = std::clamp(o.block_layers, 1.0, L);
  }
  o.objective = J(o.block_steps, o.block_layers);
  return o;
}

}  // namespace cairn
