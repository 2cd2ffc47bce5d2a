// Runs a user's T x L grid of cells (grid.hpp) through any grid stream: computes, frees and
// reverses translated into the user's cell and vector-Jacobian-product calls (docs/grid_driver.md).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "cairn/grid.hpp"

namespace cairn {

/// How the driver adds the second contribution to a cell's adjoint. The default covers any type
/// with size() and operator[] (std::vector<double> among them); specialise it for others.
template <typename State, typename = void>
struct GridStateTraits {
  static_assert(sizeof(State) == 0,
                "GridStateTraits: State has no size()/operator[]; specialise "
                "cairn::GridStateTraits<State> with a static add(State& into, const State& from)");
};

template <typename State>
struct GridStateTraits<State, std::void_t<decltype(std::declval<const State&>().size()),
                                          decltype(std::declval<State&>()[0])>> {
  static void add(State& into, const State& from) {
    if (into.size() != from.size()) {
      throw std::logic_error("GridStateTraits::add: adjoints of sizes " +
                             std::to_string(into.size()) + " and " + std::to_string(from.size()) +
                             " (cell_adjoint must keep the size of the state it writes)");
    }
    for (std::size_t k = 0; k < from.size(); ++k) into[k] += from[k];
  }
};

/// The user's grid. h[t][l] = cell(t, l, h[t-1][l], h[t][l-1]); h[-1][l] = left_inputs[l] and
/// h[t][-1] = inputs[t] (or input(t)) are the caller's.
template <typename State>
struct GridProblem {
  /// Writes h[t][l] into `out` (a buffer of the layer's prototype shape, holding anything).
  std::function<void(std::int64_t t, std::int64_t l, const State& left, const State& below,
                     State& out)>
      cell;
  /// From the cell's inputs and the adjoint of its output, OVERWRITES left_adjoint and
  /// below_adjoint with the contributions to the adjoints of h[t-1][l] and h[t][l-1] (the driver
  /// adds contributions up itself), recomputing whatever of the cell it needs, and accumulates the
  /// user's parameter gradients. Every schedule reverses a layer's cells in decreasing time, so
  /// the gradients accumulate in the same order under all of them.
  std::function<void(std::int64_t t, std::int64_t l, const State& left, const State& below,
                     const State& out_adjoint, State& left_adjoint, State& below_adjoint)>
      cell_adjoint;
  /// The seed: writes the adjoint of the output h[T-1][L-1] from its value.
  std::function<void(const State& output, State& adjoint)> terminal_adjoint;
  /// Optional: the adjoint of h[-1][l], once complete (right after cell (0, l) is reversed).
  std::function<void(std::int64_t l, const State& adjoint)> left_input_adjoint;
  /// Optional: the adjoint of h[t][-1], once complete (right after cell (t, 0) is reversed).
  std::function<void(std::int64_t t, const State& adjoint)> below_input_adjoint;

  std::vector<State> left_inputs;  ///< L states h[-1][l]
  std::vector<State> inputs;       ///< T states h[t][-1], or leave empty and give input
  std::function<const State&(std::int64_t t)> input;  ///< h[t][-1] when inputs is empty
  /// One state per layer, copied to make that layer's state and adjoint buffers (layers may have
  /// states of different sizes).
  std::vector<State> prototypes;
  /// The shape of h[t][-1] and its adjoint, needed only with input(t) (otherwise inputs[0]).
  State input_prototype{};
};

/// What a run did. Reset at the start of each run.
struct GridDriverStatistics {
  std::int64_t cell_calls = 0;     ///< cell(): one per compute, plus one for the terminal seed
  std::int64_t adjoint_calls = 0;  ///< cell_adjoint(): one per reverse
  std::int64_t computes = 0, frees = 0, reverses = 0;
  std::int64_t peak_states = 0;      ///< most cell outputs held at once (check_grid's peak cells)
  std::int64_t peak_adjoints = 0;    ///< most cell adjoints held at once
  std::int64_t state_buffers = 0;    ///< buffers allocated for held states and adjoints, scratch
  std::int64_t adjoint_buffers = 0;  ///< included, all layers together
  double seconds = 0;                ///< wall-clock time of the run
};

/// Runs grid streams against a GridProblem.
///
/// run(stream) checks the stream with check_grid (std::invalid_argument with its reason and
/// index if illegal), sizes per-layer pools from one dry pass over it (the most states and
/// adjoints of each layer held at once), allocates them, and only then calls the user: nothing is
/// allocated during the forward or reverse sweeps, and pools are kept for the next run when it
/// needs no more.
///
/// A cell's adjoint has up to two contributions, from (t + 1, l) and (t, l + 1): the first is
/// written straight into its buffer, the second into a scratch buffer and added with
/// GridStateTraits<State>::add. a + b == b + a in IEEE arithmetic, so the gradient does not
/// depend on which contribution came first: it is bitwise the same under every schedule.
///
/// The last cell is evaluated once more (cell_calls = computes + 1) to give terminal_adjoint its
/// output, as the 1-D Driver makes one step more.
///
/// A throwing callback propagates; buffers are owned by the driver, so nothing leaks, and the
/// next run() starts from empty pools.
template <typename State>
class GridDriver {
 public:
  GridDriver(GridShape shape, GridProblem<State> problem)
      : shape_(std::move(shape)), problem_(std::move(problem)) {
    const std::int64_t T = shape_.steps(), L = shape_.depth();
    auto fail = [](const std::string& what) { throw std::invalid_argument("GridDriver: " + what); };
    if (!problem_.cell || !problem_.cell_adjoint || !problem_.terminal_adjoint) {
      fail("cell, cell_adjoint and terminal_adjoint must all be given");
    }
    if (static_cast<std::int64_t>(problem_.prototypes.size()) != L) {
      fail("give one prototype state per layer: " + std::to_string(problem_.prototypes.size()) +
           " for " + std::to_string(L) + " layers");
    }
    if (static_cast<std::int64_t>(problem_.left_inputs.size()) != L) {
      fail("give one left input h[-1][l] per layer: " +
           std::to_string(problem_.left_inputs.size()) + " for " + std::to_string(L) + " layers");
    }
    if (problem_.inputs.empty()) {
      if (!problem_.input) fail("give the inputs h[t][-1]: a vector of T states or input(t)");
    } else if (static_cast<std::int64_t>(problem_.inputs.size()) != T) {
      fail("give T = " + std::to_string(T) + " inputs h[t][-1], not " +
           std::to_string(problem_.inputs.size()));
    }
    if (!problem_.inputs.empty()) problem_.input_prototype = problem_.inputs[0];
    layers_.resize(static_cast<std::size_t>(L));
  }

  /// Runs the stream: the forward computes, the terminal seed and every reverse.
  void run(const std::vector<GridAction>& stream) {
    const auto start = Clock::now();
    statistics_ = GridDriverStatistics{};
    const GridCosts costs = check_grid(shape_, stream);
    if (!costs.legal) {
      throw std::invalid_argument("GridDriver: illegal grid stream at action " +
                                  std::to_string(costs.first_illegal_index) + ": " + costs.reason);
    }
    prepare(stream);
    struct Clocked {
      GridDriver* self;
      Clock::time_point start;
      ~Clocked() { self->statistics_.seconds = seconds_since(start); }
    } clocked{this, start};
    for (const GridAction& a : stream) execute(a);
  }

  const GridDriverStatistics& statistics() const noexcept { return statistics_; }
  const GridShape& shape() const noexcept { return shape_; }

 private:
  using Clock = std::chrono::steady_clock;
  static double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
  }

  // A stack of buffers of one shape: acquire/release never allocate once it is sized.
  struct Pool {
    std::vector<State> buffers;
    std::vector<std::int32_t> free_list;
    void size_to(std::int64_t n, const State& prototype) {
      if (static_cast<std::int64_t>(buffers.size()) < n) {
        buffers.resize(static_cast<std::size_t>(n), prototype);
      }
      free_list.clear();
      free_list.reserve(buffers.size());
      for (std::size_t k = buffers.size(); k-- > 0;) {
        free_list.push_back(static_cast<std::int32_t>(k));
      }
    }
    std::int32_t acquire() {
      // The dry pass sized the pool for the stream; running dry is a driver bug.
      if (free_list.empty()) throw std::logic_error("GridDriver: a buffer pool ran dry");
      const std::int32_t k = free_list.back();
      free_list.pop_back();
      return k;
    }
    void release(std::int32_t k) { free_list.push_back(k); }
  };

  struct Layer {
    Pool states, adjoints;
    State scratch_adjoint{};  // where a second contribution lands before it is added
  };

  std::int64_t at(std::int64_t t, std::int64_t l) const { return shape_.index(t, l); }
  Layer& layer(std::int64_t l) { return layers_[static_cast<std::size_t>(l)]; }

  // One pass over the (legal) stream counting what each layer holds at most; then every buffer
  // the run needs is made here, before the first user call.
  void prepare(const std::vector<GridAction>& stream) {
    const std::int64_t T = shape_.steps(), L = shape_.depth();
    const auto cells = static_cast<std::size_t>(shape_.cells());
    std::vector<std::int64_t> held(static_cast<std::size_t>(L), 0), adj(held), held_peak(held),
        adj_peak(held);
    std::vector<char> has_state(cells, 0), has_adjoint(cells, 0);
    std::int64_t held_all = 0, adj_all = 0;
    for (const GridAction& a : stream) {
      const std::int64_t t = a.step, l = a.layer;
      const auto ul = static_cast<std::size_t>(l);
      const auto c = static_cast<std::size_t>(at(t, l));
      if (a.kind == GridActionKind::compute) {
        has_state[c] = 1;
        held_peak[ul] = std::max(held_peak[ul], ++held[ul]);
        statistics_.peak_states = std::max(statistics_.peak_states, ++held_all);
      } else if (a.kind == GridActionKind::free) {
        has_state[c] = 0;
        --held[ul];
        --held_all;
      } else {
        auto open = [&](std::int64_t tt, std::int64_t ll) {
          const auto cc = static_cast<std::size_t>(at(tt, ll));
          if (has_adjoint[cc]) return;
          has_adjoint[cc] = 1;
          const auto u = static_cast<std::size_t>(ll);
          adj_peak[u] = std::max(adj_peak[u], ++adj[u]);
          ++adj_all;
        };
        if (t == T - 1 && l == L - 1) open(t, l);
        if (t >= 1) open(t - 1, l);
        if (l >= 1) open(t, l - 1);
        statistics_.peak_adjoints = std::max(statistics_.peak_adjoints, adj_all);
        has_adjoint[c] = 0;
        --adj[ul];
        --adj_all;
      }
    }
    state_slot_.assign(cells, -1);
    adjoint_slot_.assign(cells, -1);
    for (std::int64_t l = 0; l < L; ++l) {
      Layer& y = layer(l);
      const State& prototype = problem_.prototypes[static_cast<std::size_t>(l)];
      // The last layer keeps one state buffer more: the last cell's output for the seed.
      y.states.size_to(held_peak[static_cast<std::size_t>(l)] + (l == L - 1 ? 1 : 0), prototype);
      y.adjoints.size_to(adj_peak[static_cast<std::size_t>(l)], prototype);
      y.scratch_adjoint = prototype;
      statistics_.state_buffers += static_cast<std::int64_t>(y.states.buffers.size());
      statistics_.adjoint_buffers += static_cast<std::int64_t>(y.adjoints.buffers.size()) + 1;
    }
    input_scratch_ = problem_.input_prototype;
    statistics_.adjoint_buffers += 1;
  }

  const State& input(std::int64_t t) const {
    return problem_.inputs.empty() ? problem_.input(t)
                                   : problem_.inputs[static_cast<std::size_t>(t)];
  }
  const State& left_of(std::int64_t t, std::int64_t l) {
    if (t == 0) return problem_.left_inputs[static_cast<std::size_t>(l)];
    return layer(l).states.buffers[static_cast<std::size_t>(
        state_slot_[static_cast<std::size_t>(at(t - 1, l))])];
  }
  const State& below_of(std::int64_t t, std::int64_t l) {
    if (l == 0) return input(t);
    return layer(l - 1).states.buffers[static_cast<std::size_t>(
        state_slot_[static_cast<std::size_t>(at(t, l - 1))])];
  }

  // Where the contribution to cell (t, l)'s adjoint is written: its own buffer if it is the first
  // (sets *second = false), else the layer's scratch, to be added after the call.
  State& contribution_target(std::int64_t t, std::int64_t l, bool* second) {
    std::int32_t& slot = adjoint_slot_[static_cast<std::size_t>(at(t, l))];
    Layer& y = layer(l);
    *second = slot >= 0;
    if (*second) return y.scratch_adjoint;
    slot = y.adjoints.acquire();
    return y.adjoints.buffers[static_cast<std::size_t>(slot)];
  }

  void execute(const GridAction& a) {
    const std::int64_t t = a.step, l = a.layer;
    const auto c = static_cast<std::size_t>(at(t, l));
    Layer& y = layer(l);
    switch (a.kind) {
      case GridActionKind::compute: {
        const std::int32_t k = y.states.acquire();
        state_slot_[c] = k;
        ++statistics_.computes;
        ++statistics_.cell_calls;
        problem_.cell(t, l, left_of(t, l), below_of(t, l),
                      y.states.buffers[static_cast<std::size_t>(k)]);
        break;
      }
      case GridActionKind::free:
        y.states.release(state_slot_[c]);
        state_slot_[c] = -1;
        ++statistics_.frees;
        break;
      case GridActionKind::reverse:
        reverse(t, l);
        break;
    }
  }

  void reverse(std::int64_t t, std::int64_t l) {
    const std::int64_t T = shape_.steps(), L = shape_.depth();
    const auto c = static_cast<std::size_t>(at(t, l));
    Layer& y = layer(l);
    const State& left = left_of(t, l);
    const State& below = below_of(t, l);
    if (t == T - 1 && l == L - 1) {
      const std::int32_t out = y.states.acquire();
      State& output = y.states.buffers[static_cast<std::size_t>(out)];
      ++statistics_.cell_calls;
      problem_.cell(t, l, left, below, output);
      adjoint_slot_[c] = y.adjoints.acquire();
      problem_.terminal_adjoint(output,
                                y.adjoints.buffers[static_cast<std::size_t>(adjoint_slot_[c])]);
      y.states.release(out);
    }
    bool left_second = false, below_second = false;
    State& left_adjoint = t >= 1 ? contribution_target(t - 1, l, &left_second) : y.scratch_adjoint;
    State& below_adjoint = l >= 1 ? contribution_target(t, l - 1, &below_second) : input_scratch_;
    ++statistics_.reverses;
    ++statistics_.adjoint_calls;
    problem_.cell_adjoint(t, l, left, below,
                          y.adjoints.buffers[static_cast<std::size_t>(adjoint_slot_[c])],
                          left_adjoint, below_adjoint);
    if (left_second)
      GridStateTraits<State>::add(layer(l).adjoints.buffers[adjoint_index(t - 1, l)], left_adjoint);
    if (below_second) {
      GridStateTraits<State>::add(layer(l - 1).adjoints.buffers[adjoint_index(t, l - 1)],
                                  below_adjoint);
    }
    y.adjoints.release(adjoint_slot_[c]);
    adjoint_slot_[c] = -1;
    if (t == 0 && problem_.left_input_adjoint) problem_.left_input_adjoint(l, left_adjoint);
    if (l == 0 && problem_.below_input_adjoint) problem_.below_input_adjoint(t, below_adjoint);
  }

  std::size_t adjoint_index(std::int64_t t, std::int64_t l) const {
    return static_cast<std::size_t>(adjoint_slot_[static_cast<std::size_t>(at(t, l))]);
  }

  GridShape shape_;
  GridProblem<State> problem_;
  std::vector<Layer> layers_;
  State input_scratch_{};
  std::vector<std::int32_t> state_slot_;    // per cell: its held output's buffer, or -1
  std::vector<std::int32_t> adjoint_slot_;  // per cell: its adjoint's buffer, or -1
  GridDriverStatistics statistics_;
};

}  // namespace cairn
