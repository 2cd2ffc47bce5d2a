// The forward pass of a network as a graph of tensors, and the plans that train it in a budget.
//
// A deep network is not a time-stepping chain: each layer's backward needs an autograd tape that
// is often several times the size of its output, and skip connections keep early outputs alive
// until late consumers have used them. This header states that model once; the planners (chain
// dynamic programming, graph MILP, the baselines, the exhaustive search) all return streams in
// its vocabulary, and check_plan() is the one judge of what a stream costs (docs/deep_networks.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cairn {

/// One operation of a forward pass: a layer, or a block treated as one.
struct GraphNode {
  double forward_cost = 1;         ///< f_v: one forward evaluation, >= 0 and finite
  double backward_cost = 1;        ///< b_v: its backward, >= 0 and finite
  std::uint64_t output_bytes = 1;  ///< a_v: the tensor it produces, >= 1
  /// The bytes its backward needs beyond its inputs: the tensors autograd saves inside the
  /// operation (intermediate activations, masks, its own output where the backward reads it).
  std::uint64_t tape_bytes = 0;
  std::string name;  ///< for messages, plots and the Python front end; may be empty
  /// Scratch its forward allocates and frees before it returns, held only while it runs: when
  /// computed without a tape (a block's inner activations, which no tape keeps then; a
  /// convolution's im2col buffer) ...
  std::uint64_t compute_workspace_bytes = 0;
  /// ... and when recorded, beyond the tape it keeps.
  std::uint64_t record_workspace_bytes = 0;
  /// The same for its backward (inner gradients, weight-gradient temporaries, workspaces),
  /// beyond the gradient buffers it leaves for its inputs.
  std::uint64_t backward_workspace_bytes = 0;
  /// Whether its tape keeps its own output (a backward that reads its result: tanh, sigmoid,
  /// ReLU, exp). tape_bytes then leaves the output out, and the output may not be freed while
  /// the tape is held (freeing it would release nothing): it goes after the node's backward.
  bool tape_holds_output = false;
};

/// A directed acyclic graph of GraphNodes, numbered in a topological order by construction:
/// every node reads only earlier nodes. A node without inputs reads the network's input, which
/// the caller holds (it is not counted, as the parameters are not). The last node is the
/// network's output, whose gradient the loss provides.
class Graph {
 public:
  Graph() = default;

  /// Adds node v = size(), reading the outputs of `inputs` (earlier nodes, each at most once).
  /// Throws std::invalid_argument for a later or missing input, a repeated one, a negative or
  /// non-finite cost, or output_bytes = 0. Returns v.
  std::int64_t add(GraphNode node, std::vector<std::int64_t> inputs = {});

  /// The chain layer 0 -> layer 1 -> ... (node i reads node i - 1; node 0 the network input).
  static Graph chain(std::vector<GraphNode> layers);

  std::int64_t size() const noexcept { return static_cast<std::int64_t>(nodes_.size()); }
  const GraphNode& node(std::int64_t v) const;                       ///< throws std::out_of_range
  const std::vector<std::int64_t>& inputs(std::int64_t v) const;     ///< in the order given
  const std::vector<std::int64_t>& consumers(std::int64_t v) const;  ///< increasing
  /// Whether node i reads exactly node i - 1 for every i >= 1 and node 0 reads nothing.
  bool is_chain() const noexcept;

  /// Throws std::invalid_argument unless the graph has a node and every node reaches the last
  /// one (a node whose output nobody uses has no gradient and no place in a training step).
  void validate() const;

  /// Whether the gradient of the network's output stays held from the last node's backward to
  /// the end of the stream. False by default: it goes at that backward, as plain autograd frees
  /// it. An executor that runs the whole backward inside one autograd function (cairn.torch)
  /// receives that gradient from the engine, which keeps it until the function returns: its
  /// graphs say true, and every planner counts the buffer to the end.
  bool output_gradient_held() const noexcept { return output_gradient_held_; }
  void set_output_gradient_held(bool held) noexcept { output_gradient_held_ = held; }

 private:
  std::vector<GraphNode> nodes_;
  std::vector<std::vector<std::int64_t>> inputs_;
  std::vector<std::vector<std::int64_t>> consumers_;
  bool output_gradient_held_ = false;
};

/// What a graph plan asks the executor to do with node `node`.
enum class GraphActionKind : std::uint8_t {
  compute,   ///< evaluate the node without a tape (no_grad): its output is held
  record,    ///< evaluate it with a tape (its backward follows later): output and tape are held
  free,      ///< release its output
  backward,  ///< run its backward from its tape: gradients flow to its inputs and parameters
};

struct GraphAction {
  GraphActionKind kind = GraphActionKind::compute;
  std::int64_t node = 0;
};

constexpr bool operator==(const GraphAction& a, const GraphAction& b) noexcept {
  return a.kind == b.kind && a.node == b.node;
}
constexpr bool operator!=(const GraphAction& a, const GraphAction& b) noexcept {
  return !(a == b);
}

/// "compute", "record", "free", "backward".
const char* to_string(GraphActionKind kind) noexcept;

/// The greatest common divisor of every size in the graph (outputs, tapes, workspaces): the
/// exact memory unit, in which the planners that count in units (plan_chain, plan_milp) count
/// by default. At least 1, as every output is.
std::uint64_t exact_memory_unit(const Graph& graph);

/// The verdict of check_plan() on a stream, and what it costs.
struct GraphPlanCosts {
  bool legal = false;
  std::int64_t first_illegal_index = -1;  ///< 0-based, or -1
  std::string reason;                     ///< empty when legal
  double forward_cost = 0;                ///< sum of f_v over compute and record actions
  double backward_cost = 0;  ///< sum of b_v over backward actions (sum of all b_v when complete)
  double cost = 0;           ///< forward_cost + backward_cost
  std::uint64_t peak_bytes = 0;         ///< the model's peak (see check_plan)
  std::int64_t peak_action_index = -1;  ///< the action at which the peak is first reached
  std::int64_t computes = 0, records = 0, frees = 0, backwards = 0;
};

/// Replays a stream against the memory model. The rules, with nothing held at the start:
///  - compute(v), record(v): the outputs of v's inputs are held and v's output is not; record
///    also requires that v has no tape held and has not been run backward. Then v's output is
///    held (a_v bytes), and for record v's tape too (tape_bytes).
///  - free(v): v's output is held, and no node reading v holds a tape (a tape keeps the inputs it
///    saved alive, so freeing one would free nothing), nor v itself when its tape holds its
///    output (tape_holds_output); the last node's output (which the loss reads) only after its
///    backward. Then it is released.
///  - backward(v): v has not been run backward, every consumer of v has (the last node: its
///    gradient comes from the loss), and v's tape is held. Then a gradient buffer of a_u bytes
///    is added for each input u that has none yet, and v's tape and v's own gradient buffer are
///    released (the last node's stays to the end where graph.output_gradient_held()).
///  - The stream is complete when every node has been run backward; what is still held then is
///    released by the caller and does not matter.
/// Memory held = outputs held + tapes held + gradient buffers (the one of the last node exists
/// from its backward on). The peak of an action is what is held before it plus what it
/// allocates (the output of compute and its compute workspace, the output and tape of record and
/// its record workspace, the new gradient buffers of backward and its backward workspace), before
/// it releases anything; peak_bytes is the largest over the stream. A workspace is released when
/// its action ends. An incomplete stream is reported illegal ("the stream ended before ...") with
/// first_illegal_index = the number of actions. Throws std::invalid_argument if the graph fails
/// validate().
GraphPlanCosts check_plan(const Graph& graph, const std::vector<GraphAction>& actions);

/// A plan: a complete legal stream and what check_plan() says it costs.
struct GraphPlan {
  std::vector<GraphAction> actions;
  double cost = 0;               ///< forward + backward cost, as check_plan() counts it
  std::uint64_t peak_bytes = 0;  ///< as check_plan() counts it
  std::string method;            ///< which planner made it ("store_all", "chain_dp", ...)
  /// Whether `cost` is proven minimal for the budget within the planner's stated class.
  bool optimal = false;
  /// A proven lower bound on the cost within that class (== cost when optimal).
  double lower_bound = 0;
};

/// The lowest peak and the cost of any plan: record every node in order, then run every node
/// backward in reverse order, freeing each output as soon as no later action needs it. Its cost
/// sum(f) + sum(b) is the least any plan can have.
GraphPlan plan_store_all(const Graph& graph);

/// The cheapest complete stream under `budget_bytes`, found by a shortest-path search over every
/// reachable set of held outputs, held tapes and nodes run backward (free actions cost nothing,
/// so the search is over all legal streams of this vocabulary, not a class of them). For tests
/// and tiny graphs: it gives up with std::length_error past `max_states` states, and requires
/// size() <= 20. Throws std::invalid_argument when no stream fits the budget (saying so).
GraphPlan plan_exhaustive(const Graph& graph, std::uint64_t budget_bytes,
                          std::int64_t max_states = 20'000'000);

}  // namespace cairn
