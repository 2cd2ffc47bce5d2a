"""The executor of graph plans: a stream of compute/record/free/backward actions (cairn.GraphPlan)
run over torch callables with the memory model's semantics (include/cairn/graph.hpp).

- compute(v): v's function under torch.no_grad(); its output is held.
- record(v): each input detached and made a leaf that requires grad, v's function run under
  torch.enable_grad(); (output, detached inputs) is v's tape, the output is held.
- free(v): the executor drops its reference to v's output. The tape does not keep the output's
  storage (only what autograd saved): it holds an anchor, a zero-size tensor whose backward
  hands the output's gradient to the output's grad_fn, as the memory model says free releases
  the output whether or not a tape is held. The anchor is made there, when a taped output is
  freed; one held to its backward (and one a consumer was recorded on, below) needs none.
- backward(v): torch.autograd.backward on v's taped output with v's accumulated gradient; the
  gradients of the detached inputs are added into the inputs' gradient buffers; v's tape and
  buffer are released. Parameter gradients accumulate in .grad as plain autograd's do.

One shortcut, outside debug mode: where v reads a single node u, u feeds nothing else, and u's
taped output is held when v is recorded, v is recorded on that output itself rather than on a
detached leaf. backward(v) then runs u's backward in the same autograd call (and so on down such
a run), and backward(u) only collects u's input gradients. The values are the same (the same
gradient reaches u's backward, no sum is involved), one engine call serves the run instead of one
per node (on a 192-layer chain that overhead was 10-30% of a step), and the peak can only be
lower: u's output gradient never waits in a buffer, u's tape goes at backward(v). The debug
executor keeps one call per node, so that its count is the one check_plan predicts.
"""
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch

COMPUTE, RECORD, FREE, BACKWARD = 0, 1, 2, 3
INPUT = -1  # a source that is the network input (held by the caller)


def storage_of(t: torch.Tensor) -> Tuple[int, int]:
    """(address, bytes) of the storage that holding `t` keeps alive."""
    s = t.untyped_storage() if hasattr(t, "untyped_storage") else t.storage()
    return s.data_ptr(), s.nbytes()


def tensor_parameters(fn: Any) -> List[torch.Tensor]:
    """The parameters and buffers of a callable that exposes them (nn.Module, fx blocks)."""
    out: List[torch.Tensor] = []
    if hasattr(fn, "parameters"):
        out.extend(fn.parameters())
    if hasattr(fn, "buffers"):
        out.extend(fn.buffers())
    return out


class Program:
    """What the actions run over: node v is functions[v](*args), args read from sources[v] (node
    indices, or INPUT for the network input) in that order."""

    def __init__(self, functions: Sequence[Callable], sources: Sequence[Sequence[int]],
                 names: Optional[Sequence[str]] = None) -> None:
        self.functions = list(functions)
        self.sources = [list(s) for s in sources]
        self.unique = [sorted(set(s)) for s in self.sources]
        self.names = list(names) if names is not None else [str(v) for v in range(len(functions))]
        self.size = len(self.functions)
        consumers: List[List[int]] = [[] for _ in range(self.size)]
        for v, srcs in enumerate(self.unique):
            for u in srcs:
                if u != INPUT:
                    consumers[u].append(v)
        self.last_use = [max(c) if c else v for v, c in enumerate(consumers)]

    def graph_inputs(self, v: int) -> List[int]:
        return [u for u in self.unique[v] if u != INPUT]

    def run_plain(self, x: Any) -> Any:
        """The forward pass without a plan (no_grad, eval), each output dropped after its last
        reader."""
        held: Dict[int, Any] = {}
        for v in range(self.size):
            out = self.functions[v](*[x if s == INPUT else held[s] for s in self.sources[v]])
            held[v] = out
            for u in self.unique[v]:
                if u != INPUT and self.last_use[u] == v:
                    del held[u]
        return held[self.size - 1]


class _Anchor(torch.autograd.Function):
    """A zero-size stand-in for a taped output: backward(anchor) runs the output's backward with
    the gradient put in `box`, without the output's storage being kept."""

    @staticmethod
    def forward(ctx: Any, out: torch.Tensor, box: list) -> torch.Tensor:  # type: ignore[override]
        ctx.box = box
        return out.new_empty(0)

    @staticmethod
    def backward(ctx: Any, _: torch.Tensor) -> Tuple[Optional[torch.Tensor], None]:
        grad = ctx.box.pop()
        return grad, None


def _anchor(out: Any) -> Any:
    """(anchor, box) for a tensor that requires grad; None for anything else."""
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        return None
    box: list = []
    return _Anchor.apply(out, box), box


def _stand_in(run: "Run", v: int) -> Any:
    """The anchor of v's held taped output, or None where it needs none (not in the graph, or a
    consumer was recorded on it, so that its backward runs inside that consumer's)."""
    if not run.attached[v] or run.fused_into[v]:
        return None
    with torch.enable_grad():  # (inside PlanFunction.forward, grad is off)
        return _anchor(run.outputs[v])


def _leaf(t: Any, grad: bool) -> Any:
    if not isinstance(t, torch.Tensor):
        return t
    d = t.detach()
    if grad and (d.is_floating_point() or d.is_complex()):
        d.requires_grad_(True)
    return d


class Run:
    """The state of one training step."""

    def __init__(self, size: int, x: torch.Tensor) -> None:
        self.x = x
        self.outputs: List[Any] = [None] * size
        self.tapes: List[Optional[Tuple[Any, Dict[int, Any], list]]] = [None] * size
        self.result: Any = None  # the last node's output, returned to the caller
        self.grads: List[Optional[torch.Tensor]] = [None] * size
        # The network output's gradient after the last node's backward: the engine keeps its
        # own until PlanFunction.backward returns (Graph.output_gradient_held); the debug count
        # holds this copy for it.
        self.output_grad: Optional[torch.Tensor] = None
        self.x_grad: Optional[torch.Tensor] = None
        self.rng: List[Any] = [None] * size
        self.attached: List[bool] = [False] * size  # outputs[v] is record(v)'s, in the graph
        # linked[v]: the node whose attached output record(v) read (its backward runs on into
        # that node's), or None.
        self.linked: List[Optional[int]] = [None] * size
        self.fused_into: List[bool] = [False] * size  # some record(w) read outputs[v] attached
        self.position = 0
        self.peak_bytes = 0
        self.trace: List[int] = []


class Executor:
    """Runs one plan's actions over a Program. debug=True counts the bytes of the distinct
    storages the executor holds (outputs, tapes with the tensors autograd saved, gradient
    buffers; the parameters and the network input excluded), at each action after what it
    allocates and before what it releases, plus the profiled scratch of the node the action
    runs (workspaces[v] = (compute, record, backward) bytes, which no held tensor shows), the
    bookkeeping of every tape held (bookkeeping[v] bytes: autograd's own objects, which the
    graph's tapes carry beside the saved tensors), and from the last node's backward on the
    network output's gradient, which the autograd engine keeps while the plan's backward runs:
    the quantity check_plan() predicts as peak_bytes on a graph with output_gradient_held
    (cairn.torch's graphs)."""

    def __init__(self, program: Program, actions: Sequence[Tuple[int, int]], *,
                 preserve_rng_state: bool = True, debug: bool = False,
                 workspaces: Optional[Sequence[Tuple[int, int, int]]] = None,
                 bookkeeping: Optional[Sequence[int]] = None,
                 count_output_grad: bool = True) -> None:
        # count_output_grad=False: the count leaves out the output's gradient after the last
        # node's backward, which only PlanFunction's engine call keeps (a plan run as plain
        # autograd, TrainingPlan.runs_plain, is counted so).
        self.count_output_grad = count_output_grad
        self.program = program
        self.workspaces = list(workspaces) if workspaces is not None else [(0, 0, 0)] * program.size
        self.bookkeeping = list(bookkeeping) if bookkeeping is not None else [0] * program.size
        self.actions = [(int(k), int(v)) for k, v in actions]
        self.preserve_rng_state = preserve_rng_state
        self.debug = debug
        self.split = next((i for i, (k, _) in enumerate(self.actions) if k == BACKWARD),
                          len(self.actions))
        # fusable[v]: the node u that record(v) may read attached (see the module's docstring)
        consumers = [0] * program.size
        for v in range(program.size):
            for u in program.graph_inputs(v):
                consumers[u] += 1
        self.fusable: List[Optional[int]] = [None] * program.size
        if not debug:
            for v in range(program.size):
                inputs = program.unique[v]
                if len(inputs) == 1 and inputs[0] != INPUT and consumers[inputs[0]] == 1:
                    self.fusable[v] = inputs[0]
        self._excluded: set = set()
        if debug:
            for fn in program.functions:
                for p in tensor_parameters(fn):
                    self._excluded.add(storage_of(p)[0])
        self.last_run: Optional[Run] = None

    # -- the two halves of a training step, for an autograd.Function --
    def forward(self, x: torch.Tensor) -> Tuple[Run, Any]:
        """Runs the actions before the first backward; returns the state and the network's
        output (the last node's taped output)."""
        run = Run(self.program.size, x)
        if self.debug:  # kept for its counts (the executor of a plain run keeps nothing)
            self.last_run = run
        self._excluded_input = storage_of(x)[0] if self.debug else None
        for i in range(self.split):
            self._do(run, i)
        run.position = self.split
        if run.tapes[self.program.size - 1] is None:
            raise RuntimeError("cairn.torch: the plan's forward part did not record the last node")
        result, run.result = run.result, None
        return run, result

    def backward(self, run: Run, grad: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        """Runs the rest of the actions from the loss's gradient; returns the input's."""
        if run.position != self.split:
            raise RuntimeError("cairn.torch: this step was already run backward (a plan runs "
                               "its backward once; retain_graph is not supported)")
        if grad is not None and self.debug:
            grad = grad.clone(memory_format=torch.contiguous_format)
        run.grads[self.program.size - 1] = grad
        for i in range(self.split, len(self.actions)):
            self._do(run, i)
        run.position = len(self.actions)
        x_grad, run.x_grad = run.x_grad, None
        run.outputs = [None] * self.program.size
        run.tapes = [None] * self.program.size
        run.x, run.rng, run.output_grad = None, [], None
        return x_grad

    # -- the actions --
    def _value(self, run: Run, s: int) -> Any:
        if s == INPUT:
            return run.x
        out = run.outputs[s]
        if out is None:
            raise RuntimeError(f"cairn.torch: the plan reads node {s} "
                               f"({self.program.names[s]!r}) whose output is not held")
        return out

    def _call(self, run: Run, v: int, args: List[Any]) -> Any:
        fn = self.program.functions[v]
        if not self.preserve_rng_state:
            return fn(*args)
        if run.rng[v] is None:  # the first evaluation: the state later ones replay
            before = _rng_state(run.x)
            out = fn(*args)
            # A layer that drew no random numbers keeps no state (5 KB on the CPU per layer,
            # 1 MB for 192 layers, which no plan counts) and replays without setting one.
            run.rng[v] = _NO_DRAW if _same_rng_state(before, _rng_state(run.x)) else before
            return out
        if run.rng[v] is _NO_DRAW:
            return fn(*args)
        saved = _rng_state(run.x)
        _set_rng_state(run.x, run.rng[v])
        try:
            return fn(*args)
        finally:
            _set_rng_state(run.x, saved)

    def _do(self, run: Run, i: int) -> None:
        kind, v = self.actions[i]
        srcs = self.program.sources[v]
        if kind == COMPUTE:
            args = [self._value(run, s) for s in srcs]
            versions = [a._version for a in args if isinstance(a, torch.Tensor)]
            with torch.no_grad():
                run.outputs[v] = self._call(run, v, args)
            run.attached[v] = False
            if versions != [a._version for a in args if isinstance(a, torch.Tensor)]:
                raise RuntimeError(
                    f"cairn.torch: node {v} ({self.program.names[v]!r}) modified its input in "
                    "place; a plan recomputes layers from inputs it keeps, so layers must leave "
                    "their inputs unchanged (e.g. nn.ReLU(inplace=False))")
            self._measure(run, self.workspaces[v][0])
        elif kind == RECORD:
            u = self.fusable[v]
            tape_u = run.tapes[u] if u is not None else None
            if tape_u is not None and run.attached[u]:
                leaves = {u: run.outputs[u]}  # attached: backward(v) runs on into u's backward
                fused = True
                # u's backward now runs inside v's call, never from a stand-in node: u gets none
                # (about 1.2 KB of autograd and Python objects per recorded layer).
                run.fused_into[u] = True
            else:
                leaves = {s: _leaf(self._value(run, s),
                                   run.x.requires_grad if s == INPUT else True)
                          for s in self.program.unique[v]}
                fused = False
            saved: list = []
            with torch.enable_grad():
                if self.debug:
                    with torch.autograd.graph.saved_tensors_hooks(
                            lambda t: saved.append(t) or t.detach(), lambda t: t):
                        out = self._call(run, v, [leaves[s] for s in srcs])
                else:
                    out = self._call(run, v, [leaves[s] for s in srcs])
            run.outputs[v] = out
            run.attached[v] = isinstance(out, torch.Tensor) and out.requires_grad
            run.linked[v] = u if fused else None
            if v == self.program.size - 1 and run.result is None:
                run.result = out
            run.tapes[v] = (None, {} if fused else leaves, saved)
            self._measure(run, self.workspaces[v][1])
        elif kind == FREE:
            self._measure(run)
            tape = run.tapes[v]
            if tape is not None and tape[0] is None:
                run.tapes[v] = (_stand_in(run, v), tape[1], tape[2])
            run.outputs[v] = None
            run.attached[v] = False
        elif kind == BACKWARD:
            tape = run.tapes[v]
            if tape is None:
                raise RuntimeError(f"cairn.torch: the plan runs node {v} backward without its "
                                   "tape")
            anchor, leaves, _ = tape
            grad = run.grads[v]
            if anchor is None:
                # Held to its backward: the anchor is made now, so that the gradient is handed
                # over inside the call (a reference kept by this frame would hold it through
                # every linked node's backward).
                anchor = _stand_in(run, v)
            if grad is not None and anchor is not None:
                anchor[1].append(grad)
                del grad
                # The nodes this call runs backward with v: nothing reads their outputs again
                # (each fed only the next), and the plan frees them one by one as their turn
                # comes; held through the call they would add to its peak what the model does
                # not. Their storages stay while a tape saved them, as the model says.
                u = run.linked[v]
                while u is not None:
                    run.outputs[u] = None
                    u = run.linked[u]
                run.grads[v] = None if not self.debug else run.grads[v]
                torch.autograd.backward(anchor[0], torch.empty_like(anchor[0]),
                                        retain_graph=self.debug)
            for s, leaf in leaves.items():
                g = leaf.grad if isinstance(leaf, torch.Tensor) else None
                if g is None:
                    continue
                if s == INPUT:
                    run.x_grad = g if run.x_grad is None else run.x_grad + g
                else:
                    run.grads[s] = g if run.grads[s] is None else run.grads[s] + g
            self._measure(run, self.workspaces[v][2])
            run.tapes[v] = None
            if v == self.program.size - 1 and self.debug and self.count_output_grad:
                run.output_grad = run.grads[v]
            run.grads[v] = None
        else:
            raise ValueError(f"cairn.torch: action {i} has kind {kind}, not 0..3")

    def _measure(self, run: Run, scratch: int = 0) -> None:
        if not self.debug:
            return
        live: Dict[int, int] = {}

        def add(t: Any) -> None:
            if isinstance(t, torch.Tensor):
                ptr, size = storage_of(t)
                if ptr and ptr not in self._excluded and ptr != self._excluded_input:
                    live[ptr] = size

        for out in run.outputs:
            add(out)
        bookkeeping = 0
        for v, tape in enumerate(run.tapes):
            if tape is not None:
                bookkeeping += self.bookkeeping[v]
                for t in tape[2]:
                    add(t)
        for g in run.grads:
            add(g)
        add(run.output_grad)
        total = sum(live.values()) + scratch + bookkeeping
        run.trace.append(total)
        run.peak_bytes = max(run.peak_bytes, total)


_NO_DRAW = ("no random numbers drawn",)


def _same_rng_state(a: Any, b: Any) -> bool:
    return all((p is None and q is None) or (p is not None and q is not None and torch.equal(p, q))
               for p, q in zip(a, b))


def _rng_state(x: torch.Tensor) -> Any:
    if x.is_cuda:
        return torch.get_rng_state(), torch.cuda.get_rng_state(x.device)
    return torch.get_rng_state(), None


def _set_rng_state(x: torch.Tensor, state: Any) -> None:
    torch.set_rng_state(state[0])
    if state[1] is not None:
        torch.cuda.set_rng_state(state[1], x.device)


class PlanFunction(torch.autograd.Function):
    """One training step of a plan as one autograd node: forward runs the plan's forward part,
    backward the rest. The parameters are passed only so that the output requires grad when
    they do; their gradients accumulate in .grad from the inner backward calls."""

    @staticmethod
    def forward(ctx: Any, executor: Executor, x: torch.Tensor,  # type: ignore[override]
                *params: torch.Tensor) -> torch.Tensor:
        run, out = executor.forward(x)
        ctx.executor, ctx.run, ctx.params = executor, run, len(params)
        return out.detach()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Tuple[Optional[torch.Tensor], ...]:
        run = ctx.run
        if run is None:
            raise RuntimeError("cairn.torch: this step was already run backward (retain_graph is "
                               "not supported)")
        ctx.run = None
        x_grad = ctx.executor.backward(run, grad)
        if not ctx.needs_input_grad[1]:
            x_grad = None
        return (None, x_grad) + (None,) * ctx.params


def run_plan(executor: Executor, x: torch.Tensor, params: Sequence[torch.Tensor]) -> Any:
    """The network's output through the plan, differentiable in x and params."""
    return PlanFunction.apply(executor, x, *params)
