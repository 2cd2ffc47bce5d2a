// Nested Revolve on the grid: Revolve over one axis with slices (columns or rows) as states,
// each slice reversed by Revolve over the other axis (grid_schedules.hpp, docs/grid.md).
#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/grid_schedules.hpp"
#include "cairn/revolve.hpp"
#include "grid/grid_stream.hpp"

namespace cairn {
namespace {

// The streams nested here are Revolve's, which never store adjoint data.
[[noreturn]] void no_adjoint_data() {
  throw std::logic_error("nested grid schedule: a Revolve stream held adjoint data");
}

std::vector<Action> revolve_stream(std::int64_t steps, std::int64_t slots) {
  Revolve revolve(steps, std::min(slots, steps));
  std::vector<Action> actions;
  Action batch[256];
  for (;;) {
    const std::size_t n = revolve.next_actions(batch, 256);
    actions.insert(actions.end(), batch, batch + n);
    if (actions.back().kind == ActionKind::end) return actions;
  }
}

// The grid seen along the nesting: slice o of `outer` slices, cell i of `inner` in it.
struct Nesting {
  const GridShape& shape;
  GridNesting kind;
  std::int64_t outer, inner;
  Nesting(const GridShape& s, GridNesting k)
      : shape(s),
        kind(k),
        outer(k == GridNesting::time_outer ? s.steps() : s.depth()),
        inner(k == GridNesting::time_outer ? s.depth() : s.steps()) {}
  std::int64_t t(std::int64_t o, std::int64_t i) const {
    return kind == GridNesting::time_outer ? o : i;
  }
  std::int64_t l(std::int64_t o, std::int64_t i) const {
    return kind == GridNesting::time_outer ? i : o;
  }
  std::uint64_t cell_bytes(std::int64_t o, std::int64_t i) const {
    return shape.layer(l(o, i)).state_bytes;
  }
  std::uint64_t slice_bytes(std::int64_t o) const {
    if (o < 0) return 0;
    return kind == GridNesting::time_outer
               ? shape.column_bytes()
               : static_cast<std::uint64_t>(shape.steps()) * shape.layer(o).state_bytes;
  }
};

void check_slots(std::int64_t outer_slots, std::int64_t inner_slots, const char* who) {
  if (outer_slots < 1 || inner_slots < 1) {
    throw std::invalid_argument(
        std::string(who) + ": outer_slots and inner_slots must be >= 1, got " +
        std::to_string(outer_slots) + " and " + std::to_string(inner_slots));
  }
}

// Per-step advance counts of a 1-D stream of `steps` steps.
std::vector<std::int64_t> advance_counts(const std::vector<Action>& actions, std::int64_t steps) {
  std::vector<std::int64_t> counts(static_cast<std::size_t>(steps), 0);
  for (const Action& a : actions) {
    if (a.kind != ActionKind::advance) continue;
    for (std::int64_t s = a.from(); s < a.to; ++s) ++counts[static_cast<std::size_t>(s)];
  }
  return counts;
}

}  // namespace

std::vector<GridAction> grid_nested(const GridShape& shape, GridNesting kind,
                                    std::int64_t outer_slots, std::int64_t inner_slots) {
  check_slots(outer_slots, inner_slots, "grid_nested");
  const Nesting n(shape, kind);
  const std::vector<Action> outer = revolve_stream(n.outer, outer_slots);
  const std::vector<Action> inner = revolve_stream(n.inner, inner_slots);
  detail::GridStream stream(shape);
  const auto compute = [&](std::int64_t o, std::int64_t i) {
    stream.compute(n.t(o, i), n.l(o, i));
  };
  const auto release = [&](std::int64_t o, std::int64_t i) {
    stream.release(n.t(o, i), n.l(o, i));
  };
  const auto release_slice = [&](std::int64_t o) {
    if (o < 0) return;
    for (std::int64_t i = 0; i < n.inner; ++i) release(o, i);
  };
  // 1-D state k is slice k - 1 (state 0, slice -1, is the caller's).
  std::vector<std::int64_t> slot_state(static_cast<std::size_t>(outer_slots), -1);
  std::vector<std::int32_t> slot_count(static_cast<std::size_t>(n.outer), 0);
  std::int64_t working = 0;  // the 1-D state that is the working one, -1 if undefined
  for (const Action& a : outer) {
    switch (a.kind) {
      case ActionKind::advance:
        for (std::int64_t s = a.from(); s < a.to; ++s) {
          const bool keep_previous = s == 0 || slot_count[static_cast<std::size_t>(s - 1)] > 0;
          for (std::int64_t i = 0; i < n.inner; ++i) {
            compute(s, i);
            if (!keep_previous) release(s - 1, i);
          }
        }
        working = a.to;
        break;
      case ActionKind::store:
        slot_state[static_cast<std::size_t>(a.slot)] = a.step;
        if (a.step >= 1) ++slot_count[static_cast<std::size_t>(a.step - 1)];
        break;
      case ActionKind::restore:
        if (working >= 1 && working != a.step &&
            slot_count[static_cast<std::size_t>(working - 1)] == 0) {
          release_slice(working - 1);
        }
        working = a.step;
        break;
      case ActionKind::free: {
        const std::int64_t k = slot_state[static_cast<std::size_t>(a.slot)];
        slot_state[static_cast<std::size_t>(a.slot)] = -1;
        if (k >= 1 && --slot_count[static_cast<std::size_t>(k - 1)] == 0 && k != working) {
          release_slice(k - 1);
        }
        break;
      }
      case ActionKind::reverse: {
        const std::int64_t o = a.step;  // slice o, read from slice o - 1 (the working state)
        std::vector<std::int64_t> inner_slot(static_cast<std::size_t>(inner_slots), -1);
        std::vector<std::int32_t> inner_count(static_cast<std::size_t>(n.inner), 0);
        std::int64_t in_working = 0;
        const auto release_cell = [&](std::int64_t k) {  // inner state k: cell k - 1 of slice o
          if (k >= 1 && inner_count[static_cast<std::size_t>(k - 1)] == 0) release(o, k - 1);
        };
        for (const Action& b : inner) {
          switch (b.kind) {
            case ActionKind::advance:
              for (std::int64_t j = b.from(); j < b.to; ++j) {
                compute(o, j);
                if (j >= 1 && inner_count[static_cast<std::size_t>(j - 1)] == 0) release(o, j - 1);
              }
              in_working = b.to;
              break;
            case ActionKind::store:
              inner_slot[static_cast<std::size_t>(b.slot)] = b.step;
              if (b.step >= 1) ++inner_count[static_cast<std::size_t>(b.step - 1)];
              break;
            case ActionKind::restore:
              if (in_working != b.step) release_cell(in_working);
              in_working = b.step;
              break;
            case ActionKind::free: {
              const std::int64_t k = inner_slot[static_cast<std::size_t>(b.slot)];
              inner_slot[static_cast<std::size_t>(b.slot)] = -1;
              if (k >= 1 && --inner_count[static_cast<std::size_t>(k - 1)] == 0 &&
                  k != in_working) {
                release(o, k - 1);
              }
              break;
            }
            case ActionKind::reverse:
              stream.reverse(n.t(o, b.step), n.l(o, b.step));
              in_working = -1;
              break;
            case ActionKind::end:
              break;
            case ActionKind::store_adjoint:
            case ActionKind::reverse_stored:
              no_adjoint_data();
          }
        }
        release_slice(o);
        // State o (slice o - 1) is read by no step still to be reversed.
        release_slice(o - 1);
        working = -1;
        break;
      }
      case ActionKind::end:
        break;
      case ActionKind::store_adjoint:
      case ActionKind::reverse_stored:
        no_adjoint_data();
    }
  }
  return stream.take();
}

namespace {

struct InnerProfile {
  std::vector<std::int64_t> counts;  // advances per inner step
  std::int64_t advances = 0;
  // The most inner-state bytes held at a compute, before the first reverse and after it, per
  // unit of cell size (depth_outer) or in bytes of the layers (time_outer): computed for both
  // by walking the inner stream with a size per cell.
  std::uint64_t peak_before = 0, peak_after = 0;
  // What does not depend on the slots, per slice s: the forward cost of the slice, that of its
  // inner reversal, and the most bytes of slices s - 1 and s held while an outer advance
  // computes s from s - 1 with s - 1 kept (a slot holds it) or freed cell by cell.
  double slice_forward = 0, inner_forward = 0;
  std::int64_t max_count = 0;
  std::uint64_t advance_keep = 0, advance_drop = 0;
};

InnerProfile inner_profile(const std::vector<Action>& inner, std::int64_t length,
                           const std::vector<std::uint64_t>& cell_bytes, std::int64_t slots) {
  InnerProfile p;
  p.counts = advance_counts(inner, length);
  for (const std::int64_t c : p.counts) p.advances += c;
  std::vector<std::int32_t> count(static_cast<std::size_t>(length), 0);
  std::vector<std::int64_t> slot_state(static_cast<std::size_t>(slots), -1);
  std::vector<std::uint8_t> held(static_cast<std::size_t>(length), 0);
  std::uint64_t bytes = 0;
  std::int64_t working = 0;
  bool reversed_any = false;
  const auto drop = [&](std::int64_t k) {  // state k = cell k - 1
    if (k >= 1 && count[static_cast<std::size_t>(k - 1)] == 0 &&
        held[static_cast<std::size_t>(k - 1)]) {
      held[static_cast<std::size_t>(k - 1)] = 0;
      bytes -= cell_bytes[static_cast<std::size_t>(k - 1)];
    }
  };
  for (const Action& b : inner) {
    switch (b.kind) {
      case ActionKind::advance:
        for (std::int64_t j = b.from(); j < b.to; ++j) {
          held[static_cast<std::size_t>(j)] = 1;
          bytes += cell_bytes[static_cast<std::size_t>(j)];
          std::uint64_t& peak = reversed_any ? p.peak_after : p.peak_before;
          peak = std::max(peak, bytes);
          drop(j);
        }
        working = b.to;
        break;
      case ActionKind::store:
        slot_state[static_cast<std::size_t>(b.slot)] = b.step;
        if (b.step >= 1) ++count[static_cast<std::size_t>(b.step - 1)];
        break;
      case ActionKind::restore:
        if (working != b.step) drop(working);
        working = b.step;
        break;
      case ActionKind::free: {
        const std::int64_t k = slot_state[static_cast<std::size_t>(b.slot)];
        slot_state[static_cast<std::size_t>(b.slot)] = -1;
        if (k >= 1) --count[static_cast<std::size_t>(k - 1)];
        if (k != working) drop(k);
        break;
      }
      case ActionKind::reverse: {
        reversed_any = true;
        // The reverse frees its input below (inner state b.step) once nothing reads it.
        const std::int64_t k = b.step;
        if (k >= 1 && held[static_cast<std::size_t>(k - 1)]) {
          held[static_cast<std::size_t>(k - 1)] = 0;
          bytes -= cell_bytes[static_cast<std::size_t>(k - 1)];
        }
        working = -1;
        break;
      }
      case ActionKind::end:
        break;
      case ActionKind::store_adjoint:
      case ActionKind::reverse_stored:
        no_adjoint_data();
    }
  }
  return p;
}

NestedCosts nested_costs_with(const Nesting& n, std::int64_t outer_slots, std::int64_t inner_slots,
                              const std::vector<InnerProfile>& inner_by_slice) {
  const GridShape& shape = n.shape;
  NestedCosts c;
  c.nesting = n.kind;
  c.outer_slots = outer_slots;
  c.inner_slots = inner_slots;
  const std::vector<Action> outer = revolve_stream(n.outer, outer_slots);
  const std::vector<std::int64_t> m = advance_counts(outer, n.outer);
  // Computes: every outer advance of step s evaluates slice s; every slice is reversed once,
  // its inner stream advancing cell i counts[i] times.
  double forward = 0;
  std::int64_t outer_advances = 0, max_outer = 0, max_inner = 0;
  for (std::int64_t s = 0; s < n.outer; ++s) {
    const InnerProfile& in = inner_by_slice[static_cast<std::size_t>(s)];
    const std::int64_t ms = m[static_cast<std::size_t>(s)];
    outer_advances += ms;
    max_outer = std::max(max_outer, ms);
    max_inner = std::max(max_inner, in.max_count);
    forward += static_cast<double>(ms) * in.slice_forward + in.inner_forward;
  }
  const std::int64_t computes = outer_advances * n.inner + n.outer * inner_by_slice[0].advances;
  c.computes = computes;
  c.recomputes = computes - (shape.cells() - 1);
  c.forward_cost = forward;
  c.max_computes_per_cell = computes == 0 ? 0 : max_outer + max_inner;

  // Peak: walk the outer stream with slices as units.
  std::vector<std::int32_t> count(static_cast<std::size_t>(n.outer), 0);
  std::vector<std::uint8_t> dead(static_cast<std::size_t>(n.outer), 0);  // released at a reverse
  std::vector<std::int64_t> slot_state(static_cast<std::size_t>(outer_slots), -1);
  std::uint64_t slotted = 0;  // bytes of the slot-held slices
  std::uint64_t peak = 0;
  const auto hold = [&](std::int64_t k, int delta) {  // state k, slice k - 1
    if (k < 1) return;
    std::int32_t& cnt = count[static_cast<std::size_t>(k - 1)];
    if (delta > 0 && cnt++ == 0) slotted += n.slice_bytes(k - 1);
    if (delta < 0 && --cnt == 0 && !dead[static_cast<std::size_t>(k - 1)]) {
      slotted -= n.slice_bytes(k - 1);
    }
  };
  const auto slot_held = [&](std::int64_t k) {
    return k >= 1 && count[static_cast<std::size_t>(k - 1)] > 0;
  };
  for (const Action& a : outer) {
    switch (a.kind) {
      case ActionKind::advance:
        for (std::int64_t s = a.from(); s < a.to; ++s) {
          // Computing slice s from slice s - 1: held = other slot-held slices + what is left of
          // slice s - 1 + slice s up to the cell being computed.
          const bool keep = s == 0 || slot_held(s);
          const std::uint64_t others = slotted - (keep && s >= 1 ? n.slice_bytes(s - 1) : 0);
          const InnerProfile& in = inner_by_slice[static_cast<std::size_t>(s)];
          const std::uint64_t best = keep ? in.advance_keep : in.advance_drop;
          peak = std::max(peak, others + best);
        }
        break;
      case ActionKind::store:
        slot_state[static_cast<std::size_t>(a.slot)] = a.step;
        hold(a.step, +1);
        break;
      case ActionKind::restore:
        break;
      case ActionKind::free: {
        const std::int64_t k = slot_state[static_cast<std::size_t>(a.slot)];
        slot_state[static_cast<std::size_t>(a.slot)] = -1;
        hold(k, -1);
        break;
      }
      case ActionKind::reverse: {
        const std::int64_t o = a.step;
        const InnerProfile& in = inner_by_slice[static_cast<std::size_t>(o)];
        const std::uint64_t left = n.slice_bytes(o - 1);
        const std::uint64_t others = slotted - (slot_held(o) ? left : 0);
        std::uint64_t during = others + left + in.peak_before;
        if (in.peak_after > 0) {
          const std::uint64_t last = o >= 1 ? n.cell_bytes(o - 1, n.inner - 1) : 0;
          during = std::max(during, others + left - last + in.peak_after);
        }
        peak = std::max(peak, during);
        // The stream releases slice o - 1 here, slot or not: no step still to be reversed reads it.
        if (slot_held(o)) {
          slotted -= left;
          dead[static_cast<std::size_t>(o - 1)] = 1;
        }
        break;
      }
      case ActionKind::end:
        break;
      case ActionKind::store_adjoint:
      case ActionKind::reverse_stored:
        no_adjoint_data();
    }
  }
  c.peak_state_bytes = peak;
  return c;
}

std::vector<InnerProfile> inner_profiles(const Nesting& n, std::int64_t inner_slots) {
  const std::vector<Action> inner = revolve_stream(n.inner, inner_slots);
  const std::int64_t slots = std::min(inner_slots, n.inner);
  const GridShape& shape = n.shape;
  std::vector<std::uint64_t> bytes(static_cast<std::size_t>(n.inner), 1);
  if (n.kind == GridNesting::time_outer) {
    // Every column holds the same layers.
    std::uint64_t largest = 0;
    for (std::int64_t i = 0; i < n.inner; ++i) {
      bytes[static_cast<std::size_t>(i)] = n.cell_bytes(0, i);
      largest = std::max(largest, n.cell_bytes(0, i));
    }
    InnerProfile p = inner_profile(inner, n.inner, bytes, slots);
    for (std::int64_t i = 0; i < n.inner; ++i) {
      const double f = shape.layer(i).forward_cost;
      p.slice_forward += f;
      p.inner_forward += static_cast<double>(p.counts[static_cast<std::size_t>(i)]) * f;
      p.max_count = std::max(p.max_count, p.counts[static_cast<std::size_t>(i)]);
    }
    std::vector<InnerProfile> profiles(static_cast<std::size_t>(n.outer), p);
    for (std::int64_t o = 0; o < n.outer; ++o) {
      InnerProfile& q = profiles[static_cast<std::size_t>(o)];
      q.advance_keep = n.slice_bytes(o - 1) + shape.column_bytes();
      q.advance_drop = o == 0 ? shape.column_bytes() : shape.column_bytes() + largest;
    }
    return profiles;
  }
  // A row's cells are alike: one walk with unit sizes, scaled by each row's state size.
  InnerProfile unit = inner_profile(inner, n.inner, bytes, slots);
  for (const std::int64_t k : unit.counts) unit.max_count = std::max(unit.max_count, k);
  std::vector<InnerProfile> profiles(static_cast<std::size_t>(n.outer), unit);
  const std::uint64_t T = static_cast<std::uint64_t>(n.inner);
  for (std::int64_t o = 0; o < n.outer; ++o) {
    InnerProfile& q = profiles[static_cast<std::size_t>(o)];
    const std::uint64_t size = n.cell_bytes(o, 0);
    const double f = shape.layer(o).forward_cost;
    q.peak_before *= size;
    q.peak_after *= size;
    q.slice_forward = static_cast<double>(T) * f;
    q.inner_forward = static_cast<double>(unit.advances) * f;
    const std::uint64_t below = o == 0 ? 0 : n.cell_bytes(o - 1, 0);
    q.advance_keep = T * (below + size);
    // Row o - 1 freed cell by cell as row o is computed: (T - i) of one and i + 1 of the other.
    q.advance_drop = o == 0 ? T * size : std::max(T * below + size, below + T * size);
  }
  return profiles;
}

}  // namespace

NestedCosts nested_costs(const GridShape& shape, GridNesting kind, std::int64_t outer_slots,
                         std::int64_t inner_slots) {
  check_slots(outer_slots, inner_slots, "nested_costs");
  const Nesting n(shape, kind);
  return nested_costs_with(n, outer_slots, inner_slots, inner_profiles(n, inner_slots));
}

NestedCosts optimal_nested_slots(const GridShape& shape, GridNesting kind, std::uint64_t budget) {
  const Nesting n(shape, kind);
  NestedCosts best;
  bool found = false;
  std::uint64_t least = std::numeric_limits<std::uint64_t>::max();
  const auto consider = [&](const NestedCosts& c) {
    if (!found || c.forward_cost < best.forward_cost ||
        (c.forward_cost == best.forward_cost && c.peak_state_bytes < best.peak_state_bytes)) {
      best = c;
      found = true;
    }
  };
  // The cost falls as either slot count grows. Along an axis whose slices (or cells) are alike
  // the peak grows with it too, so the largest count that fits is found by bisection; along
  // the other axis every count is tried (rows of unequal sizes make depth_outer's peak
  // non-monotone in its outer slots: tests/test_grid.cpp has such a case).
  const auto largest_fitting = [&](std::int64_t limit, const auto& at) {
    NestedCosts lo = at(1);
    least = std::min(least, lo.peak_state_bytes);
    if (lo.peak_state_bytes > budget) return;
    std::int64_t good = 1, bad = limit + 1;
    while (bad - good > 1) {
      const std::int64_t mid = good + (bad - good) / 2;
      const NestedCosts c = at(mid);
      if (c.peak_state_bytes <= budget) {
        good = mid;
        lo = c;
      } else {
        bad = mid;
      }
    }
    consider(lo);
  };
  if (kind == GridNesting::time_outer) {
    for (std::int64_t ci = 1; ci <= n.inner; ++ci) {
      const std::vector<InnerProfile> profiles = inner_profiles(n, ci);
      largest_fitting(n.outer,
                      [&](std::int64_t co) { return nested_costs_with(n, co, ci, profiles); });
    }
  } else {
    for (std::int64_t co = 1; co <= n.outer; ++co) {
      largest_fitting(n.inner, [&](std::int64_t ci) {
        return nested_costs_with(n, co, ci, inner_profiles(n, ci));
      });
    }
  }
  if (!found) {
    throw std::invalid_argument("optimal_nested_slots: no slot split fits a budget of " +
                                std::to_string(budget) + " state bytes; nested Revolve needs " +
                                std::to_string(least) + " at least on this grid");
  }
  return best;
}

}  // namespace cairn
