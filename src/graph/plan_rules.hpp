// The rules of graph.hpp's memory model, written once for every kind of plan state: check_plan
// keeps vectors of flags, the exhaustive search packs them into bits, and both ask these
// functions, so the search explores exactly the streams the checker accepts.
#pragma once

#include <cstdint>
#include <string>

#include "cairn/graph.hpp"

namespace cairn::detail {

/// Why an action is not allowed in a state; `other` names the node involved (an input, a
/// consumer), or -1.
struct Violation {
  enum Kind : std::uint8_t {
    none,
    input_not_held,
    output_held,
    tape_held,
    already_backward,
    output_not_held,
    pinned_by_tape,
    pinned_by_own_tape,
    output_before_backward,
    consumer_not_backward,
    no_tape,
  };
  Kind kind = none;
  std::int64_t other = -1;
  explicit operator bool() const noexcept { return kind != none; }
};

/// State must offer output(v), tape(v) and backward_done(v) as booleans; `v` is a valid node.
template <class State>
Violation violation(const Graph& graph, const State& state, GraphAction action) {
  const std::int64_t v = action.node;
  switch (action.kind) {
    case GraphActionKind::compute:
    case GraphActionKind::record:
      for (const std::int64_t u : graph.inputs(v)) {
        if (!state.output(u)) return {Violation::input_not_held, u};
      }
      if (state.output(v)) return {Violation::output_held, -1};
      if (action.kind == GraphActionKind::record) {
        if (state.tape(v)) return {Violation::tape_held, -1};
        if (state.backward_done(v)) return {Violation::already_backward, -1};
      }
      return {};
    case GraphActionKind::free:
      if (!state.output(v)) return {Violation::output_not_held, -1};
      for (const std::int64_t w : graph.consumers(v)) {
        if (state.tape(w)) return {Violation::pinned_by_tape, w};
      }
      if (graph.node(v).tape_holds_output && state.tape(v)) {
        return {Violation::pinned_by_own_tape, -1};
      }
      if (v == graph.size() - 1 && !state.backward_done(v)) {
        return {Violation::output_before_backward, -1};
      }
      return {};
    case GraphActionKind::backward:
      if (state.backward_done(v)) return {Violation::already_backward, -1};
      for (const std::int64_t w : graph.consumers(v)) {
        if (!state.backward_done(w)) return {Violation::consumer_not_backward, w};
      }
      if (!state.tape(v)) return {Violation::no_tape, -1};
      return {};
  }
  return {};
}

/// Whether node u holds a gradient buffer: it has not been run backward and a consumer has (the
/// last node's buffer comes from the loss at its own backward, so it never shows here).
template <class State>
bool has_gradient(const Graph& graph, const State& state, std::int64_t u) {
  if (state.backward_done(u)) return false;
  for (const std::int64_t w : graph.consumers(u)) {
    if (state.backward_done(w)) return true;
  }
  return false;
}

/// The bytes of the network output's gradient that stay held after the last node's backward
/// (Graph::output_gradient_held): its output's, once that backward has run; else 0.
template <class State>
std::uint64_t held_output_gradient(const Graph& graph, const State& state) {
  const std::int64_t top = graph.size() - 1;
  return graph.output_gradient_held() && state.backward_done(top) ? graph.node(top).output_bytes
                                                                  : 0;
}

/// Bytes a legal action allocates before it releases anything, its workspace included.
template <class State>
std::uint64_t allocated_bytes(const Graph& graph, const State& state, GraphAction action) {
  const GraphNode& node = graph.node(action.node);
  switch (action.kind) {
    case GraphActionKind::compute:
      return node.output_bytes + node.compute_workspace_bytes;
    case GraphActionKind::record:
      return node.output_bytes + node.tape_bytes + node.record_workspace_bytes;
    case GraphActionKind::free:
      return 0;
    case GraphActionKind::backward: {
      std::uint64_t bytes = node.backward_workspace_bytes;
      if (action.node == graph.size() - 1) bytes += node.output_bytes;
      for (const std::int64_t u : graph.inputs(action.node)) {
        if (!has_gradient(graph, state, u)) bytes += graph.node(u).output_bytes;
      }
      return bytes;
    }
  }
  return 0;
}

/// The message for a violation of `action` (without the action's index).
std::string describe(const Graph& graph, GraphAction action, Violation violation);

}  // namespace cairn::detail
