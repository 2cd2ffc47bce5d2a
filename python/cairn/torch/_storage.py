"""Where cairn.torch keeps checkpoints: slot buffers allocated once, on the state's device or in
pinned host memory, and a by-reference store for the keep-everything baseline.

Storage never decides anything (the schedule names every slot); it only copies.
"""
from typing import Dict, List, Optional

import torch


class SlotBuffer:
    """`slots` states of one shape in one tensor, allocated by the constructor.

    On a device level, restore() returns a view of the slot: the solver never writes into its
    working state in place, so the view stays valid until that slot is stored again, which the
    schedule does only after the working state has moved on. A host level (pinned when the state
    lives on a CUDA device) copies with non-blocking transfers on the current stream, so a store
    and a later restore are ordered by the stream, and restores land in one device scratch state.
    """

    def __init__(self, slots: int, like: torch.Tensor, host: bool = False):
        self.host = host
        self.slots = slots
        shape = (slots,) + tuple(like.shape)
        if host:
            pin = like.is_cuda
            self.data = torch.empty(shape, dtype=like.dtype, device="cpu", pin_memory=pin)
            self.scratch: Optional[torch.Tensor] = torch.empty_like(like) if like.is_cuda else None
        else:
            self.data = torch.empty(shape, dtype=like.dtype, device=like.device)
            self.scratch = None
        self.held: List[int] = [-1] * slots
        self.count = 0  # slots holding a state

    @property
    def bytes(self) -> int:
        return self.data.numel() * self.data.element_size()

    def store(self, slot: int, step: int, x: torch.Tensor) -> None:
        self.data[slot].copy_(x, non_blocking=self.host)
        if self.held[slot] < 0:
            self.count += 1
        self.held[slot] = step

    def restore(self, slot: int, step: int) -> torch.Tensor:
        if self.held[slot] != step:
            raise RuntimeError(
                f"cairn.torch: slot {slot} holds state {self.held[slot]}, not {step} (a schedule "
                "or driver bug; please report it)")
        if self.scratch is not None:
            return self.scratch.copy_(self.data[slot], non_blocking=True)
        return self.data[slot]

    def free(self, slot: int) -> None:
        if self.held[slot] >= 0:
            self.count -= 1
        self.held[slot] = -1

    def occupied(self) -> int:
        return self.count


class ReferenceStore:
    """Keeps the states themselves (no copy): the store-everything baseline, whose memory is one
    state per step, as autograd's would be without the graph."""

    host = False

    def __init__(self):
        self.states: Dict[int, torch.Tensor] = {}
        self.held: Dict[int, int] = {}

    @property
    def bytes(self) -> int:
        return sum(x.numel() * x.element_size() for x in self.states.values())

    def store(self, slot: int, step: int, x: torch.Tensor) -> None:
        # x_0 is the caller's tensor, which the caller may change in place later: copy it.
        self.states[slot] = x.clone() if step == 0 else x
        self.held[slot] = step

    def restore(self, slot: int, step: int) -> torch.Tensor:
        if self.held.get(slot) != step:
            raise RuntimeError(f"cairn.torch: slot {slot} does not hold state {step} (a schedule "
                               "or driver bug; please report it)")
        return self.states[slot]

    def free(self, slot: int) -> None:
        self.states.pop(slot, None)
        self.held.pop(slot, None)

    def occupied(self) -> int:
        return len(self.states)
