"""Per-node costs of a Program, measured in passes: in each, each node recorded once (forward
time, its output's bytes, the bytes autograd saves for its backward beyond its inputs and
parameters) and run backward at once (backward time), so that a pass holds one tape at a time,
not all. A first pass warms up (allocator, caches, kernels' first calls) and is not counted; the
times are the medians of the passes after it. One more pass, untimed, measures each node's
scratch: what its forward (without a tape, and with one beyond the tape) and its backward hold
at their peak beyond what they leave allocated (inner activations, a convolution's im2col
buffer, weight-gradient temporaries): on CUDA from the caching allocator's peak, on the CPU
from the profiler's memory events (0 where the installed PyTorch has neither). Buffers and
random state are restored after.

On the CPU a recorded node also holds autograd's own objects until its backward: the graph's
nodes (one per operation, and one per leaf it reads: parameters, detached inputs) with their
saved-variable records. They are host memory, a few hundred bytes each, counted as the node's
bookkeeping_bytes = nodes x AUTOGRAD_NODE_BYTES (0 on a GPU, whose budget is device memory)."""
import functools
import math
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Sequence, Tuple

import torch

import cairn

from ._graph_exec import (INPUT, Program, _leaf, _rng_state, _set_rng_state, storage_of,
                          tensor_parameters)

# Host bytes per autograd graph node a recorded layer keeps until its backward (the node, its
# saved-variable records, the leaves' AccumulateGrad nodes), fitted on bench/python/deep_chain.py
# with glibc's mallinfo2: convolutions (4 nodes) kept 2.4 KiB beyond their tensors, residual
# blocks (9 nodes) 5.3 KiB, 590 bytes a node in both (PyTorch 1.13, CPU). Left out, Cairn's
# measured peaks there were 5-9% above its predictions at torch's budgets; with it, within 4%.
AUTOGRAD_NODE_BYTES = 600


@dataclass(frozen=True)
class LayerProfile:
    """What one node of a network costs: seconds per forward and backward evaluation, bytes of
    its output and of its tape (the tensors autograd saves beyond its inputs and parameters,
    counted once per storage; without the output's own storage when the tape keeps it,
    tape_holds_output), and the scratch its forward (without a tape: compute; with one:
    record) and its backward hold only while they run (the parameters' gradient temporaries
    count as backward scratch: a training step adds them into existing .grad buffers and frees
    them)."""
    name: str
    forward_seconds: float
    backward_seconds: float
    output_bytes: int
    tape_bytes: int
    compute_workspace_bytes: int = 0
    record_workspace_bytes: int = 0
    backward_workspace_bytes: int = 0
    tape_holds_output: bool = False
    # Host bytes of autograd's own objects for the recorded node (module docstring), held with
    # its tape: 0 on a GPU.
    bookkeeping_bytes: int = 0


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _bytes(t: Any) -> int:
    return storage_of(t)[1] if isinstance(t, torch.Tensor) else 0


def _peak_beyond_start(call: Callable[[], Any], device: torch.device) -> Tuple[Any, int]:
    """call()'s result and the most it had allocated at once beyond what was allocated when it
    began (0 where that cannot be measured)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        result = call()
        torch.cuda.synchronize(device)
        return result, max(0, torch.cuda.max_memory_allocated(device) - before)
    try:
        recorder = torch.autograd.profiler.profile(profile_memory=True)
        recorder.__enter__()
    except (AttributeError, RuntimeError, TypeError):
        return call(), 0
    try:
        result = call()
    finally:
        recorder.__exit__(None, None, None)
    try:
        events = [e for e in recorder.kineto_results.events() if e.name() == "[memory]"
                  and str(e.device_type()).endswith("CPU")]
    except (AttributeError, RuntimeError):
        return result, 0
    live = peak = 0
    for e in sorted(events, key=lambda e: e.start_us()):  # stable: ties keep their order
        live += e.nbytes()
        peak = max(peak, live)
    return result, peak


# Timed passes after the warm-up. The first pass alone overstated the small layers most (their
# first calls' overhead): on bench/python/deep_chain.py torch's plans then ran at 0.78-0.80 of
# their predicted cost and Cairn's at 0.88-0.95, which hid which layers were cheap to recompute.
PROFILE_PASSES = 3


def profile_program(program: Program, x: torch.Tensor,
                    passes: int = PROFILE_PASSES) -> List[LayerProfile]:
    """A warm-up pass and `passes` timed ones over the program with input x (parameters' .grad
    untouched): per node the median times, and the bytes (the same in every pass)."""
    if passes < 1:
        raise ValueError(f"cairn.torch: passes={passes}; profiling needs at least one timed pass")
    # The passes leave no trace: the modules' buffers (BatchNorm's running statistics) and the
    # random number generators are as they were before.
    buffers = [(b, b.detach().clone()) for fn in program.functions
               if hasattr(fn, "buffers") for b in fn.buffers()]
    rng = _rng_state(x)
    try:
        runs = [_one_pass(program, x) for _ in range(passes + 1)][1:]
        scratch = _one_pass(program, x, scratch=True)
    finally:
        _set_rng_state(x, rng)
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
    return [LayerProfile(first.name,
                         statistics.median(r[v].forward_seconds for r in runs),
                         statistics.median(r[v].backward_seconds for r in runs),
                         max(r[v].output_bytes for r in runs),
                         max(r[v].tape_bytes for r in runs),
                         scratch[v].compute_workspace_bytes, scratch[v].record_workspace_bytes,
                         scratch[v].backward_workspace_bytes,
                         any(r[v].tape_holds_output for r in runs),
                         max(r[v].bookkeeping_bytes for r in runs))
            for v, first in enumerate(runs[0])]


def _one_pass(program: Program, x: torch.Tensor, scratch: bool = False) -> List[LayerProfile]:
    """One measured pass over the program with input x (parameters' .grad untouched); with
    scratch, the workspaces are measured too (and the times are not to be used)."""
    graph_module = getattr(torch.autograd, "graph", None)
    hooks = hasattr(graph_module, "saved_tensors_hooks")
    held: Dict[int, Any] = {}
    profile: List[LayerProfile] = []
    x_ptr = storage_of(x)[0]
    for v in range(program.size):
        fn = program.functions[v]
        params = [p for p in tensor_parameters(fn)]
        excluded = {storage_of(p)[0] for p in params} | {x_ptr}
        leaves = {s: _leaf(x if s == INPUT else held[s], True) for s in program.unique[v]}
        for leaf in leaves.values():
            if isinstance(leaf, torch.Tensor):
                excluded.add(storage_of(leaf)[0])
        saved: Dict[int, int] = {}

        def pack(t: torch.Tensor) -> torch.Tensor:
            if not (t.grad_fn is None and t.requires_grad):  # a leaf that needs grad: a parameter
                ptr, size = storage_of(t)
                saved[ptr] = size
            return t.detach()

        args = [leaves[s] for s in program.sources[v]]

        def taped() -> Any:
            with torch.enable_grad():
                if hooks:
                    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                        return fn(*args)
                return fn(*args)

        _sync(x.device)
        t0 = time.perf_counter()
        record_peak = 0
        try:
            if scratch:
                out, record_peak = _peak_beyond_start(taped, x.device)
            else:
                out = taped()
        except RuntimeError as e:
            hint = ("; a plan recomputes layers from inputs it keeps, so layers must leave their "
                    "inputs unchanged (e.g. nn.ReLU(inplace=False))" if "in-place" in str(e)
                    else "")
            raise RuntimeError(f"cairn.torch: node {v} ({program.names[v]!r}) failed when "
                               f"profiled: {e}{hint}") from e
        _sync(x.device)
        t1 = time.perf_counter()
        out_bytes = _bytes(out)
        bookkeeping = (_autograd_nodes(out) * AUTOGRAD_NODE_BYTES if x.device.type == "cpu"
                       else 0)
        # A backward that reads the node's result (tanh, sigmoid, ReLU) saves the output: the
        # model then counts that storage once, as the output, held until the backward.
        out_ptr = storage_of(out)[0] if isinstance(out, torch.Tensor) else None
        holds_output = hooks and out_ptr is not None and out_ptr in saved
        if hooks:
            tape = sum(size for ptr, size in saved.items()
                       if ptr not in excluded and ptr != out_ptr)
        else:  # no hooks (PyTorch < 1.10): the output stands for what the backward keeps
            tape = out_bytes
        # Scratch of the forward: taped, beyond the output and the tape it leaves; without a
        # tape, beyond the output alone (what a tape would keep is freed inside the call then).
        record_scratch = max(0, record_peak - out_bytes - tape) if scratch else 0
        compute_scratch = 0
        if scratch:
            with torch.no_grad():
                untaped, untaped_peak = _peak_beyond_start(functools.partial(fn, *args),
                                                           x.device)
            compute_scratch = max(0, untaped_peak - _bytes(untaped))
            del untaped
        backward = 0.0
        backward_scratch = 0
        if isinstance(out, torch.Tensor) and out.requires_grad:
            inputs = [t for t in leaves.values()
                      if isinstance(t, torch.Tensor) and t.requires_grad]
            wrt = inputs + [p for p in params if p.requires_grad]
            seed = torch.ones_like(out)
            _sync(x.device)
            t2 = time.perf_counter()
            if scratch:
                grads, backward_peak = _peak_beyond_start(
                    functools.partial(torch.autograd.grad, out, wrt, seed, allow_unused=True),
                    x.device)
                # What stays is the inputs' gradient buffers (the model's); the parameters'
                # gradients are temporaries of a training step, counted as scratch.
                kept = sum(_bytes(g) for g in grads[:len(inputs)])
                backward_scratch = max(0, backward_peak - kept)
                del grads
            else:
                torch.autograd.grad(out, wrt, seed, allow_unused=True)
            _sync(x.device)
            backward = time.perf_counter() - t2
        profile.append(LayerProfile(program.names[v], t1 - t0, backward, out_bytes, tape,
                                    compute_scratch, record_scratch, backward_scratch,
                                    bool(holds_output), bookkeeping))
        held[v] = out.detach() if isinstance(out, torch.Tensor) else out
        del out, leaves
        for u in program.unique[v]:
            if u != INPUT and program.last_use[u] == v:
                del held[u]
    return profile


def _autograd_nodes(out: Any) -> int:
    """The autograd nodes reachable from out's grad_fn: those the node's record made, down to the
    AccumulateGrad nodes of the leaves it read (its inputs are detached leaves when profiled)."""
    root = out.grad_fn if isinstance(out, torch.Tensor) else None
    seen: set = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(n for n, _ in node.next_functions if n is not None)
    return len(seen)


def graph_of(program: Program, profile: Sequence[LayerProfile]) -> "cairn.Graph":
    """The cairn.Graph of a program with its profiled costs (times in seconds)."""
    if len(profile) != program.size:
        raise ValueError(f"cairn.torch: the profile has {len(profile)} layers, the network "
                         f"{program.size}")
    # Workspaces are allocator counts, any number of bytes; rounded up to the tensors' common
    # unit they keep the planners' exact unit coarse (a byte-sized gcd would make their tables
    # as large as the budget in bytes), at a cost of less than one unit each.
    unit = tensor_unit(profile)

    def rounded(nbytes: int) -> int:
        return -(-max(0, int(nbytes)) // unit) * unit

    graph = cairn.Graph()
    for v, (p, extra) in enumerate(zip(profile, bookkeeping_units(profile, unit))):
        node = cairn.GraphNode(forward_cost=max(0.0, float(p.forward_seconds)),
                               backward_cost=max(0.0, float(p.backward_seconds)),
                               output_bytes=max(1, int(p.output_bytes)),
                               tape_bytes=max(0, int(p.tape_bytes)) + extra, name=p.name,
                               compute_workspace_bytes=rounded(p.compute_workspace_bytes),
                               record_workspace_bytes=rounded(p.record_workspace_bytes),
                               backward_workspace_bytes=rounded(p.backward_workspace_bytes),
                               tape_holds_output=bool(p.tape_holds_output))
        graph.add(node, program.graph_inputs(v))
    # The plan's backward runs inside one autograd function (PlanFunction), whose incoming
    # gradient, the network output's, the engine keeps until the function returns.
    graph.output_gradient_held = True
    return graph


def tensor_unit(profile: Sequence[LayerProfile]) -> int:
    """The greatest common divisor of the profiled outputs and tapes: the unit graph_of rounds
    workspaces up to and gives bookkeeping in."""
    unit = 0
    for p in profile:
        unit = math.gcd(math.gcd(unit, max(1, int(p.output_bytes))), max(0, int(p.tape_bytes)))
    return unit


def bookkeeping_units(profile: Sequence[LayerProfile], unit: int) -> List[int]:
    """The bytes each node's tape carries for its bookkeeping in the graph: whole units (a few
    hundred bytes a node, it is often below the tensors' unit, which rounding up each would
    overstate many times over), spread along the node order by error diffusion, so that over
    any run of consecutive nodes they are within one unit of the profiled total."""
    out, carried, given = [], 0, 0
    for p in profile:
        carried += max(0, int(p.bookkeeping_bytes))
        due = (carried + unit // 2) // unit * unit
        out.append(due - given)
        given = due
    return out
