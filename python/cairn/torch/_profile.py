"""Per-node costs of a Program, measured in passes: in each, each node recorded once (forward
time, its output's bytes, the bytes autograd saves for its backward beyond its inputs and
parameters) and run backward at once (backward time), so that a pass holds one tape at a time,
not all. A first pass warms up (allocator, caches, kernels' first calls) and is not counted; the
times are the medians of the passes after it. Buffers and random state are restored after."""
import statistics
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence

import torch

import cairn

from ._graph_exec import (INPUT, Program, _leaf, _rng_state, _set_rng_state, storage_of,
                          tensor_parameters)


@dataclass(frozen=True)
class LayerProfile:
    """What one node of a network costs: seconds per forward and backward evaluation, bytes of
    its output and of its tape (the tensors autograd saves beyond its inputs and parameters,
    counted once per storage)."""
    name: str
    forward_seconds: float
    backward_seconds: float
    output_bytes: int
    tape_bytes: int


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _bytes(t: Any) -> int:
    return storage_of(t)[1] if isinstance(t, torch.Tensor) else 0


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
    finally:
        _set_rng_state(x, rng)
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
    return [LayerProfile(first.name,
                         statistics.median(r[v].forward_seconds for r in runs),
                         statistics.median(r[v].backward_seconds for r in runs),
                         max(r[v].output_bytes for r in runs),
                         max(r[v].tape_bytes for r in runs))
            for v, first in enumerate(runs[0])]


def _one_pass(program: Program, x: torch.Tensor) -> List[LayerProfile]:
    """One measured pass over the program with input x (parameters' .grad untouched)."""
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

        _sync(x.device)
        t0 = time.perf_counter()
        try:
            with torch.enable_grad():
                if hooks:
                    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                        out = fn(*[leaves[s] for s in program.sources[v]])
                else:
                    out = fn(*[leaves[s] for s in program.sources[v]])
        except RuntimeError as e:
            hint = ("; a plan recomputes layers from inputs it keeps, so layers must leave their "
                    "inputs unchanged (e.g. nn.ReLU(inplace=False))" if "in-place" in str(e)
                    else "")
            raise RuntimeError(f"cairn.torch: node {v} ({program.names[v]!r}) failed when "
                               f"profiled: {e}{hint}") from e
        _sync(x.device)
        t1 = time.perf_counter()
        out_bytes = _bytes(out)
        if hooks:
            tape = sum(size for ptr, size in saved.items() if ptr not in excluded)
        else:  # no hooks (PyTorch < 1.10): the output stands for what the backward keeps
            tape = out_bytes
        backward = 0.0
        if isinstance(out, torch.Tensor) and out.requires_grad:
            wrt = [t for t in leaves.values()
                   if isinstance(t, torch.Tensor) and t.requires_grad]
            wrt += [p for p in params if p.requires_grad]
            seed = torch.ones_like(out)
            _sync(x.device)
            t2 = time.perf_counter()
            torch.autograd.grad(out, wrt, seed, allow_unused=True)
            _sync(x.device)
            backward = time.perf_counter() - t2
        profile.append(LayerProfile(program.names[v], t1 - t0, backward, out_bytes, tape))
        held[v] = out.detach() if isinstance(out, torch.Tensor) else out
        del out, leaves
        for u in program.unique[v]:
            if u != INPUT and program.last_use[u] == v:
                del held[u]
    return profile


def graph_of(program: Program, profile: Sequence[LayerProfile]) -> "cairn.Graph":
    """The cairn.Graph of a program with its profiled costs (times in seconds)."""
    if len(profile) != program.size:
        raise ValueError(f"cairn.torch: the profile has {len(profile)} layers, the network "
                         f"{program.size}")
    graph = cairn.Graph()
    for v, p in enumerate(profile):
        node = cairn.GraphNode(forward_cost=max(0.0, float(p.forward_seconds)),
                               backward_cost=max(0.0, float(p.backward_seconds)),
                               output_bytes=max(1, int(p.output_bytes)),
                               tape_bytes=max(0, int(p.tape_bytes)), name=p.name)
        graph.add(node, program.graph_inputs(v))
    return graph
