"""One solve of cairn.torch.odeint: the forward pass under a checkpointing schedule, and the
backward pass that replays the schedule and reverses each step with autograd.

The forward pass keeps no autograd graph. It runs the schedule's first sweep (offline schedules)
or tells an online schedule of every accepted step (adaptive solves), keeping only the
checkpoints the schedule asks for. The backward pass continues the same stream: it restores and
recomputes states exactly as the schedule says, and at `reverse(i)` re-runs step i under autograd
from x_i and calls torch.autograd.grad with lambda_i+1, which gives lambda_i and step i's share of
every parameter's gradient. Because every step is recomputed by the same operations on the same
bits, the gradient is the same whichever schedule ran, to the bit.

Mixed schedules (cairn.MixedRevolve, odeint's keep_adjoint_data=True) add two actions.
`store_adjoint(i)` runs step i under autograd from x_i and keeps the step's graph (its input and
output; the graph holds the tensors autograd saved) under a slot, continuing from x_i+1 without
the graph; `reverse_stored(i)` calls torch.autograd.grad on that kept graph instead of re-running
the step. Both reverses go through `_vjp`, so the gradient is bitwise the same as Revolve's.
"""
from collections import deque
from typing import Callable, Deque, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from torch.autograd.function import once_differentiable

from cairn import ActionKind

from ._grid import outputs_by_state
from ._storage import ReferenceStore, SlotBuffer
from ._tableaux import Tableau, solution_step

# cairn.ActionKind as plain ints: the loops below compare one per action.
ADVANCE, STORE, RESTORE, REVERSE, FREE, END, STORE_ADJOINT, REVERSE_STORED = (int(k) for k in (
    ActionKind.ADVANCE, ActionKind.STORE, ActionKind.RESTORE, ActionKind.REVERSE,
    ActionKind.FREE, ActionKind.END, ActionKind.STORE_ADJOINT, ActionKind.REVERSE_STORED))
BATCH = 4096


def action_stream(schedule) -> Iterator[tuple]:
    """The schedule's remaining actions as (kind, level, slot, step, to) tuples, read in batches
    (one call into the C++ schedule per BATCH actions)."""
    while True:
        batch = schedule.next_actions(BATCH)
        if len(batch) == 0:
            return
        yield from batch.tolist()


class ReadAhead:
    """A schedule's whole stream, read at once (in batches of BATCH actions, 32 bytes each), so
    that the schedule itself can be freed before the solve: a mixed plan's table (16 bytes an
    entry, T min(units, (T - 1) w) entries) is about ten times its stream. Reads like the
    schedule it replaces (next_actions, name)."""

    def __init__(self, schedule):
        self.name = schedule.name
        self.chunks: Deque = deque()
        self.bytes = 0
        while True:
            batch = schedule.next_actions(BATCH)
            if len(batch) == 0:
                break
            self.chunks.append(batch)
            self.bytes += batch.nbytes

    def next_actions(self, count: int):
        return self.chunks.popleft() if self.chunks else ()


class Chain:
    """The discrete solver as a chain of steps x_i -> x_i+1, and its call counts."""

    def __init__(self, func: Callable, tab: Tableau, grid, time_like: torch.Tensor,
                 device: torch.device):
        self.user_func = func
        self.tab = tab
        self.grid = grid
        self.evaluations = 0
        dtype = time_like.dtype

        def time(value: float) -> torch.Tensor:
            return torch.full((), value, dtype=dtype, device=device)

        self.time = time

    def func(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.evaluations += 1
        return self.user_func(t, y)

    def step(self, i: int, x: torch.Tensor) -> torch.Tensor:
        t0, h = self.grid.step(i)
        return solution_step(self.tab, self.func, self.time, t0, h, x)[0]

    def outputs(self, x: torch.Tensor) -> Iterator[Tuple[int, torch.Tensor]]:
        """Every step in order from x_0 = x, keeping nothing: (output index, state) at each
        output after the first."""
        output_of = {s: k for k, s in enumerate(self.grid.output_states)}
        for i in range(self.grid.steps):
            x = self.step(i, x)
            if i + 1 in output_of:
                yield output_of[i + 1], x


class Checkpoints:
    """The storage levels of a solve (index = Action.level) and what was done with them.

    With a mixed schedule, level 0's slots also hold adjoint data: a taped step's (input,
    output), which keep its autograd graph alive, `adjoint_units` units each (a state is one)."""

    def __init__(self, levels: Sequence, adjoint_units: int = 0):
        self.levels = list(levels)
        self.stores = 0
        self.restores = 0
        self.peak = 0
        self.adjoint_units = adjoint_units
        self.adjoint: Dict[int, Tuple[int, torch.Tensor, torch.Tensor]] = {}
        self.adjoint_stores = 0
        self.stored_reverses = 0
        self.peak_units = 0

    def _held(self) -> None:
        states = sum(lv.occupied() for lv in self.levels)
        self.peak = max(self.peak, states)
        self.peak_units = max(self.peak_units,
                              states + self.adjoint_units * len(self.adjoint))

    def store(self, level: int, slot: int, step: int, x: torch.Tensor) -> None:
        if level == 0 and slot in self.adjoint:
            raise RuntimeError(f"cairn.torch: a state stored in slot {slot}, which holds the "
                               f"adjoint data of step {self.adjoint[slot][0]} (a schedule bug; "
                               "please report it)")
        self.levels[level].store(slot, step, x)
        self.stores += 1
        self._held()

    def store_adjoint(self, level: int, slot: int, step: int, xi: torch.Tensor,
                      y1: torch.Tensor) -> None:
        if level != 0 or slot in self.adjoint:
            raise RuntimeError(f"cairn.torch: adjoint data of step {step} stored in level {level} "
                               f"slot {slot}, which cannot take it (a schedule bug; please report "
                               "it)")
        self.levels[0].free(slot)  # the slot's state, if any, is no longer needed
        self.adjoint[slot] = (step, xi, y1)
        self.adjoint_stores += 1
        self._held()

    def take_adjoint(self, level: int, slot: int, step: int) -> Tuple[torch.Tensor, torch.Tensor]:
        held = self.adjoint.get(slot) if level == 0 else None
        if held is None or held[0] != step:
            raise RuntimeError(f"cairn.torch: level {level} slot {slot} does not hold the adjoint "
                               f"data of step {step} (a schedule bug; please report it)")
        del self.adjoint[slot]
        self.stored_reverses += 1
        return held[1], held[2]

    def restore(self, level: int, slot: int, step: int) -> torch.Tensor:
        self.restores += 1
        return self.levels[level].restore(slot, step)

    def free(self, level: int, slot: int) -> None:
        self.levels[level].free(slot)
        if level == 0:
            self.adjoint.pop(slot, None)

    @property
    def bytes(self) -> int:
        return sum(lv.bytes for lv in self.levels)


class Solve:
    """State shared by the forward and backward pass of one odeint call."""

    def __init__(self, chain: Chain, params: Tuple[torch.Tensor, ...], stats: Optional[dict],
                 adjoint_units: int = 0):
        self.chain = chain
        self.params = params
        self.stats = stats
        self.adjoint_units = adjoint_units  # > 0: the schedule may keep adjoint data
        self.checkpoints: Optional[Checkpoints] = None
        self.stream: Optional[Iterator[tuple]] = None
        self.pending: Optional[tuple] = None  # the first reverse, read by the forward pass
        self.working: Optional[torch.Tensor] = None
        self.working_step = -1
        self.output_of: Dict[int, List[int]] = {}
        self.used = False

    # ---- the steps under autograd, shared by both passes ----

    def _taped(self, step: int, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Step `step` from x under autograd: (its input, which requires grad, and x_step+1 with
        the step's graph)."""
        with torch.enable_grad():
            xi = x.detach().requires_grad_(True)
            return xi, self.chain.step(step, xi)

    def _vjp(self, xi: torch.Tensor, y1: torch.Tensor, lam: torch.Tensor,
             grads: List[torch.Tensor]) -> torch.Tensor:
        """lambda_i from lambda_i+1 through the taped step xi -> y1; adds the step's share of each
        parameter's gradient to `grads`."""
        with torch.enable_grad():
            g = torch.autograd.grad(y1, (xi,) + tuple(self.params), lam, allow_unused=True)
        for acc, gp in zip(grads, g[1:]):
            if gp is not None:
                acc.add_(gp)
        return g[0] if g[0] is not None else torch.zeros_like(lam)

    def _store_adjoint(self, action: tuple, x: torch.Tensor, at: int) -> torch.Tensor:
        """store_adjoint: step `step` taped from x_step, its graph kept in the slot; x_step+1
        (without the graph) returned."""
        kind, level, slot, step, _ = action
        if at != step:
            raise RuntimeError(f"cairn.torch: store_adjoint of step {step} but the working state "
                               f"is x_{at} (a schedule bug; please report it)")
        if step == 0:
            x = x.clone()  # x_0 is the caller's tensor, which it may change in place later
        xi, y1 = self._taped(step, x)
        self.checkpoints.store_adjoint(level, slot, step, xi, y1)
        return y1.detach()

    # ---- the forward pass ----

    def _execute_storage(self, action: tuple, x: torch.Tensor) -> None:
        kind, level, slot, step, _ = action
        if kind == STORE:
            self.checkpoints.store(level, slot, step, x)
        elif kind == FREE:
            self.checkpoints.free(level, slot)
        else:
            raise RuntimeError(f"cairn.torch: unexpected action {action} in a forward sweep")

    def forward_offline(self, y0: torch.Tensor, schedule, levels: Sequence,
                        out: torch.Tensor) -> None:
        """The first sweep of an offline schedule: x_0 .. x_T-1 with its stores, then x_T."""
        grid = self.chain.grid
        self.checkpoints = Checkpoints(levels, self.adjoint_units)
        self.output_of = outputs_by_state(grid.output_states)
        recorded = set()

        def record(state: int, x: torch.Tensor) -> None:
            if state in self.output_of and state not in recorded:
                recorded.add(state)
                for k in self.output_of[state]:
                    out[k].copy_(x)

        x, at = y0, 0
        self.stream = action_stream(schedule)
        for action in self.stream:
            kind, level, slot, step, to = action
            if kind == ADVANCE:
                for i in range(step, to):
                    x = self.chain.step(i, x)
                    record(i + 1, x)
                at = to
            elif kind == STORE_ADJOINT:
                x = self._store_adjoint(action, x, at)
                at = step + 1
                record(at, x)
            elif kind == RESTORE:
                x, at = self.checkpoints.restore(level, slot, step), step
            elif kind == REVERSE or kind == REVERSE_STORED:
                self.pending = action
                break
            else:
                self._execute_storage(action, x)
        last = grid.steps - 1
        if self.pending is None or self.pending[3] != last or at != (
                last if self.pending[0] == REVERSE else grid.steps):
            raise RuntimeError("cairn.torch: the schedule's first sweep did not end with the "
                               "reverse of the last step (a schedule bug; please report it)")
        if self.pending[0] == REVERSE:
            self.working, self.working_step = x, at
            record(grid.steps, self.chain.step(at, x))
        else:  # the last step's data is kept: x_T is already known
            self.working, self.working_step = None, -1

    def forward_online(self, y0: torch.Tensor, online, levels: Sequence,
                       integrate: Callable) -> None:
        """An adaptive solve told step by step to an online schedule; `integrate(on_step)` runs
        the solver and calls on_step(i, x_i) after each accepted step."""
        self.checkpoints = Checkpoints(levels)
        start = online.start()
        self._execute_storage((int(start.kind), start.level, start.slot, start.step, start.to),
                              y0)

        def on_step(i: int, x: torch.Tensor) -> None:
            for action in online.advanced().tolist():
                self._execute_storage(action, x)

        x_final = integrate(on_step)
        online.finish()
        self.output_of = outputs_by_state(self.chain.grid.output_states)
        self.working, self.working_step = x_final, self.chain.grid.steps
        self.stream = action_stream(online)

    # ---- the backward pass ----

    def backward(self, grad_out: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        if self.used:
            raise RuntimeError(
                "cairn.torch.odeint: this solve was already differentiated once; its checkpoints "
                "are gone. Call odeint again for another backward pass (retain_graph cannot "
                "keep them)")
        self.used = True
        chain, grid = self.chain, self.chain.grid
        evaluations_before = chain.evaluations
        steps = grid.steps
        lam = torch.zeros_like(grad_out[0])
        for k in self.output_of.get(steps, []):
            lam = lam + grad_out[k]
        grads = [torch.zeros_like(p) for p in self.params]
        x, at = self.working, self.working_step
        recomputed = reverses = taped_stores = 0
        actions = self.stream
        if self.pending is not None:
            actions = _prepend(self.pending, actions)
        for action in actions:
            kind, level, slot, step, to = action
            if kind == ADVANCE:
                if at != step:
                    raise RuntimeError(f"cairn.torch: advance from {step} but the working state "
                                       f"is x_{at} (a schedule bug; please report it)")
                for i in range(step, to):
                    x = chain.step(i, x)
                recomputed += to - step
                at = to
            elif kind == RESTORE:
                x, at = self.checkpoints.restore(level, slot, step), step
            elif kind == REVERSE or kind == REVERSE_STORED:
                if kind == REVERSE:
                    if at != step:
                        raise RuntimeError(f"cairn.torch: reverse of step {step} but the working "
                                           f"state is x_{at} (a schedule bug; please report it)")
                    xi, y1 = self._taped(step, x)
                else:
                    xi, y1 = self.checkpoints.take_adjoint(level, slot, step)
                lam = self._vjp(xi, y1, lam, grads)
                del xi, y1  # the step's graph goes now, not at the next reverse
                for k in self.output_of.get(step, []):
                    lam = lam + grad_out[k]
                reverses += 1
                at = -1
            elif kind == STORE_ADJOINT:
                x = self._store_adjoint(action, x, at)
                at = step + 1
                taped_stores += 1
            elif kind == STORE:
                self.checkpoints.store(level, slot, step, x)
            elif kind == FREE:
                self.checkpoints.free(level, slot)
            elif kind == END:
                break
        if reverses != steps:
            raise RuntimeError(f"cairn.torch: the schedule reversed {reverses} of {steps} steps "
                               "(a schedule bug; please report it)")
        if self.stats is not None:
            self.stats.update(
                evaluations_backward=chain.evaluations - evaluations_before,
                recomputed_steps=recomputed, reverses=reverses,
                stores=self.checkpoints.stores, restores=self.checkpoints.restores,
                peak_checkpoints=self.checkpoints.peak)
            if self.adjoint_units:
                self.stats.update(
                    adjoint_stores=self.checkpoints.adjoint_stores,
                    adjoint_stores_backward=taped_stores,
                    stored_reverses=self.checkpoints.stored_reverses,
                    peak_units=self.checkpoints.peak_units)
        # The checkpoints are no longer needed: give their memory back now.
        self.checkpoints = None
        self.working = None
        self.stream = None
        return lam, grads


def _prepend(first: tuple, rest: Iterator[tuple]) -> Iterator[tuple]:
    yield first
    yield from rest


class OdeintFunction(torch.autograd.Function):
    """y0 and the parameters in, the solution at the output times out; `solve` does the work."""

    @staticmethod
    def forward(ctx, solve: Solve, run_forward: Callable, y0: torch.Tensor, *params):
        ctx.solve = solve
        return run_forward(y0.detach())

    @staticmethod
    @once_differentiable  # the taped steps are not themselves differentiated again
    def backward(ctx, grad_out):
        lam0, grads = ctx.solve.backward(grad_out.contiguous())
        return (None, None, lam0) + tuple(grads)


def make_levels(checkpoints, offload: int, like: torch.Tensor, mixed: bool = False) -> list:
    """The storage levels of a solve. A mixed schedule's states are kept by reference, each in
    memory only while the schedule holds it: its units are shared with adjoint data, so a buffer
    of `checkpoints` states allocated up front would be memory the budget does not count."""
    if checkpoints == "all" or mixed:
        return [ReferenceStore()]
    levels = [SlotBuffer(checkpoints, like)]
    if offload:
        levels.append(SlotBuffer(offload, like, host=True))
    return levels


__all__ = ["Chain", "Solve", "OdeintFunction", "ReadAhead", "make_levels", "action_stream"]
