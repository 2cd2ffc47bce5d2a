// The grid model (grid.hpp): its shape and the checker that replays grid streams.
#include "cairn/grid.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace cairn {

GridShape::GridShape(std::int64_t steps, std::vector<GridLayer> layers)
    : steps_(steps), layers_(std::move(layers)) {
  if (steps_ < 1) {
    throw std::invalid_argument("GridShape: steps must be >= 1, got " + std::to_string(steps_));
  }
  if (layers_.empty()) throw std::invalid_argument("GridShape: at least one layer is needed");
  if (static_cast<std::int64_t>(layers_.size()) > std::numeric_limits<std::int32_t>::max() ||
      steps_ >
          std::numeric_limits<std::int64_t>::max() / static_cast<std::int64_t>(layers_.size())) {
    throw std::invalid_argument("GridShape: steps x layers does not fit in an int64");
  }
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const GridLayer& layer = layers_[l];
    const auto bad_cost = [](double c) { return !std::isfinite(c) || c < 0; };
    if (bad_cost(layer.forward_cost) || bad_cost(layer.backward_cost)) {
      throw std::invalid_argument("GridShape: layer " + std::to_string(l) +
                                  ": costs must be finite and >= 0");
    }
    if (layer.state_bytes < 1) {
      throw std::invalid_argument("GridShape: layer " + std::to_string(l) +
                                  ": state_bytes must be >= 1");
    }
    column_bytes_ += layer.state_bytes;
  }
}

GridShape GridShape::uniform(std::int64_t steps, std::int64_t layers) {
  if (layers < 1) {
    throw std::invalid_argument("GridShape: layers must be >= 1, got " + std::to_string(layers));
  }
  return GridShape(steps, std::vector<GridLayer>(static_cast<std::size_t>(layers)));
}

const GridLayer& GridShape::layer(std::int64_t l) const {
  if (l < 0 || l >= depth()) {
    throw std::out_of_range("GridShape: layer " + std::to_string(l) + " of " +
                            std::to_string(depth()));
  }
  return layers_[static_cast<std::size_t>(l)];
}

const char* to_string(GridActionKind kind) noexcept {
  switch (kind) {
    case GridActionKind::compute:
      return "compute";
    case GridActionKind::free:
      return "free";
    case GridActionKind::reverse:
      return "reverse";
  }
  return "?";
}

namespace {

std::string cell_name(std::int64_t t, std::int64_t l) {
  return "(" + std::to_string(t) + ", " + std::to_string(l) + ")";
}

// The checker's state, one flag or counter per cell, indexed t * L + l.
class GridReplay {
 public:
  explicit GridReplay(const GridShape& shape)
      : shape_(shape),
        held_(static_cast<std::size_t>(shape.cells()), 0),
        reversed_(static_cast<std::size_t>(shape.cells()), 0),
        adjoint_(static_cast<std::size_t>(shape.cells()), 0),
        computed_(static_cast<std::size_t>(shape.cells()), 0) {}

  // Empty when legal, else why not.
  std::string apply(const GridAction& a, GridCosts& costs) {
    const std::int64_t T = shape_.steps(), L = shape_.depth();
    const std::int64_t t = a.step, l = a.layer;
    if (t < 0 || t >= T || l < 0 || l >= L) {
      return "cell " + cell_name(t, l) + " is outside the " + std::to_string(T) + " x " +
             std::to_string(L) + " grid";
    }
    const std::size_t v = index(t, l);
    const GridLayer& layer = shape_.layer(l);
    switch (a.kind) {
      case GridActionKind::compute: {
        if (const std::string why = inputs_missing(t, l); !why.empty()) return why;
        if (held_[v]) return "compute " + cell_name(t, l) + ": its output is already held";
        held_[v] = 1;
        state_bytes_ += layer.state_bytes;
        ++state_cells_;
        costs.peak_state_bytes = std::max(costs.peak_state_bytes, state_bytes_);
        costs.peak_state_cells = std::max(costs.peak_state_cells, state_cells_);
        costs.peak_bytes = std::max(costs.peak_bytes, state_bytes_ + adjoint_bytes_);
        ++costs.computes;
        costs.forward_cost += layer.forward_cost;
        costs.max_computes_per_cell =
            std::max<std::int64_t>(costs.max_computes_per_cell, ++computed_[v]);
        return {};
      }
      case GridActionKind::free:
        if (!held_[v]) return "free " + cell_name(t, l) + ": its output is not held";
        held_[v] = 0;
        state_bytes_ -= layer.state_bytes;
        --state_cells_;
        ++costs.frees;
        return {};
      case GridActionKind::reverse: {
        if (reversed_[v]) return "reverse " + cell_name(t, l) + ": already reversed";
        if (t + 1 < T && !reversed_[index(t + 1, l)]) {
          return "reverse " + cell_name(t, l) + ": cell " + cell_name(t + 1, l) +
                 " reads it and is not reversed yet";
        }
        if (l + 1 < L && !reversed_[index(t, l + 1)]) {
          return "reverse " + cell_name(t, l) + ": cell " + cell_name(t, l + 1) +
                 " reads it and is not reversed yet";
        }
        if (const std::string why = inputs_missing(t, l); !why.empty()) return why;
        // The last cell's adjoint is the caller's seed, made at its reverse.
        std::uint64_t adjoints = adjoint_bytes_;
        if (!adjoint_[v]) adjoints += layer.state_bytes;
        if (t > 0 && !adjoint_[index(t - 1, l)]) adjoints += layer.state_bytes;
        if (l > 0 && !adjoint_[index(t, l - 1)]) adjoints += shape_.layer(l - 1).state_bytes;
        costs.peak_adjoint_bytes = std::max(costs.peak_adjoint_bytes, adjoints);
        costs.peak_bytes = std::max(costs.peak_bytes, state_bytes_ + adjoints + layer.tape_bytes);
        adjoints -= layer.state_bytes;
        adjoint_[v] = 0;
        if (t > 0) adjoint_[index(t - 1, l)] = 1;
        if (l > 0) adjoint_[index(t, l - 1)] = 1;
        adjoint_bytes_ = adjoints;
        reversed_[v] = 1;
        ++costs.reverses;
        costs.reverse_cost += layer.forward_cost + layer.backward_cost;
        return {};
      }
    }
    return "unknown action kind";
  }

 private:
  std::size_t index(std::int64_t t, std::int64_t l) const noexcept {
    return static_cast<std::size_t>(shape_.index(t, l));
  }
  std::string inputs_missing(std::int64_t t, std::int64_t l) const {
    const char* what = nullptr;
    std::int64_t ut = 0, ul = 0;
    if (t > 0 && !held_[index(t - 1, l)]) {
      what = "left", ut = t - 1, ul = l;
    } else if (l > 0 && !held_[index(t, l - 1)]) {
      what = "below", ut = t, ul = l - 1;
    }
    if (what == nullptr) return {};
    return "cell " + cell_name(t, l) + ": its input " + what + ", " + cell_name(ut, ul) +
           ", is not held";
  }

  const GridShape& shape_;
  std::vector<std::uint8_t> held_, reversed_, adjoint_;
  std::vector<std::int32_t> computed_;
  std::uint64_t state_bytes_ = 0, adjoint_bytes_ = 0;
  std::int64_t state_cells_ = 0;
};

}  // namespace

GridCosts check_grid(const GridShape& shape, const std::vector<GridAction>& actions) {
  GridCosts costs;
  GridReplay replay(shape);
  for (std::size_t i = 0; i < actions.size(); ++i) {
    const GridAction& a = actions[i];
    std::string why = replay.apply(a, costs);
    if (!why.empty()) {
      costs.first_illegal_index = static_cast<std::int64_t>(i);
      costs.reason = std::move(why);
      return costs;
    }
  }
  costs.cost = costs.forward_cost + costs.reverse_cost;
  costs.recomputes = costs.computes - (shape.cells() - 1);
  if (costs.reverses != shape.cells()) {
    costs.first_illegal_index = static_cast<std::int64_t>(actions.size());
    costs.reason = "the stream ended before every cell was reversed (" +
                   std::to_string(costs.reverses) + " of " + std::to_string(shape.cells()) + ")";
    return costs;
  }
  costs.legal = true;
  return costs;
}

}  // namespace cairn
