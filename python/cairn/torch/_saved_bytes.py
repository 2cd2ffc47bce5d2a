"""What keeping one step's autograd graph costs, measured: the bytes of the tensors the step's
graph holds that belong to the step alone, in units of one state (odeint's keep_adjoint_data).

A kept step holds its input x_i (which requires grad), its output x_i+1 (the root of the graph)
and every tensor autograd saved for the backward of its operations (the stages, activations,
...). Some saved tensors are not the step's own: a parameter, a buffer, a constant the vector
field captured. They stay in memory whether the step is kept or not, so they are not counted.
They are found without knowing the field: the step is taped twice, from two copies of the state,
with both graphs alive, and a storage that both graphs hold belongs to neither step. The second
run (and its memory: the two graphs are alive together) is skipped when the first, less the
storages of the known parameters and buffers, already exceeds the budget: such a step cannot be
kept whatever the exact figure, and the bound is returned. Saved 0-d
tensors that do not require grad are left out too: they are the Python numbers and times autograd
keeps (the h and the Butcher weights a step multiplies by), a few bytes each, of the order of the
graph's own bookkeeping (its nodes), which no tensor shows either; counted, they would round a
step that keeps exactly 5 states up to 6.
"""
import math
from typing import Callable, Dict, Iterable, Optional, Tuple

import torch
from torch.autograd.graph import saved_tensors_hooks

StorageKey = Tuple[str, int]


def _storage(t: torch.Tensor) -> Tuple[StorageKey, int]:
    """(a key naming t's storage, the storage's bytes). Views of one storage share the key."""
    try:
        storage = t.untyped_storage() if hasattr(t, "untyped_storage") else t.storage()
        return (str(t.device), storage.data_ptr()), storage.nbytes()
    except (RuntimeError, NotImplementedError, TypeError):  # no plain storage (sparse, ...)
        return ("object", id(t)), t.numel() * t.element_size()


def _taped_storages(step: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor
                    ) -> Tuple[Dict[StorageKey, int], Tuple[torch.Tensor, torch.Tensor]]:
    """The storages a taped step from a copy of x keeps alive, and (input, output), which keep
    them alive (returned so that the caller holds them while comparing with another run).

    The graph is never differentiated. Its saved tensors are kept detached: a saved output
    packed as itself would hold its own grad_fn, a cycle through C++ that Python's collector
    cannot see, and the graph would never be freed."""
    held: Dict[StorageKey, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        if t.dim() > 0 or t.requires_grad:
            key, size = _storage(t)
            held[key] = size
        return t.detach()

    xi = x.detach().clone().requires_grad_(True)
    with torch.enable_grad(), saved_tensors_hooks(pack, lambda t: t):
        y1 = step(xi)
    for t in (xi, y1):
        key, size = _storage(t)
        held[key] = size
    return held, (xi, y1)


def step_bytes(step: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
               known: Iterable[torch.Tensor] = (), budget: Optional[int] = None) -> int:
    """Bytes that keeping the graph of `step` (a map x_i -> x_i+1 run under autograd) from x
    holds beyond what exists anyway: its input, output and saved tensors, each storage counted
    once, the storages shared with a second run (parameters, buffers, constants) and the saved
    0-d constants left out. `known`: tensors known to exist anyway (the parameters); if the
    first run, less their storages, holds more than `budget` bytes, that bound is returned
    without a second run."""
    first, keep_first = _taped_storages(step, x)
    if budget is not None:
        shared = {_storage(t)[0] for t in known}
        bound = sum(size for key, size in first.items() if key not in shared)
        if bound > budget:
            return bound
    second, keep_second = _taped_storages(step, x)
    own = sum(size for key, size in first.items() if key not in second)
    del keep_first, keep_second
    return own


def units_of(nbytes: int, state: torch.Tensor) -> int:
    """nbytes in units of one state: ceil(nbytes / state bytes), at least 1."""
    state_bytes = state.numel() * state.element_size()
    if state_bytes == 0:
        return 1
    return max(1, math.ceil(nbytes / state_bytes))


__all__ = ["step_bytes", "units_of"]
