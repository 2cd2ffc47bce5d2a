"""`checkpoint_grid`: a stack of recurrent cells trained by a T x L grid checkpointing plan.

Cell (t, l) computes h[t][l] = cells[l](h[t][l-1], h[t-1][l]) (inputs[t] below layer 0, h0[l]
left of step 0). The forward pass follows the plan's actions up to its first reverse (the last
cell, taped there so that it is evaluated once), and the backward pass runs the rest of the
stream: every compute the plan asks for and no other, so the states held are the plan's.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch

from .. import _cairn

State = Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]

_COMPUTE, _FREE, _REVERSE = 0, 1, 2


def _as_tuple(state: State) -> Tuple[torch.Tensor, ...]:
    return tuple(state) if isinstance(state, (tuple, list)) else (state,)


def _call(cell: torch.nn.Module, below: torch.Tensor,
          left: Tuple[torch.Tensor, ...]) -> Tuple[torch.Tensor, ...]:
    # LSTM-style cells take and return (h, c); the others a single tensor.
    return _as_tuple(cell(below, left if len(left) == 2 else left[0]))


def _plan(shape: "_cairn.GridShape", memory: Optional[int], schedule: str,
          block: Optional[Tuple[int, int]], slots: Optional[Tuple[int, int]]):
    if schedule not in ("blocked", "nested_time", "nested_depth"):
        raise ValueError("checkpoint_grid: schedule is 'blocked', 'nested_time' or "
                         "'nested_depth', not %r" % (schedule,))
    nesting = (_cairn.GridNesting.time_outer if schedule == "nested_time"
               else _cairn.GridNesting.depth_outer)
    if block is not None:
        return _cairn.grid_blocked(shape, int(block[0]), int(block[1]))
    if slots is not None:
        return _cairn.grid_nested(shape, nesting, int(slots[0]), int(slots[1]))
    if memory is None:
        return _cairn.grid_store_all(shape)
    if schedule == "blocked":
        best = _cairn.optimal_block_sizes(shape, int(memory))
        return _cairn.grid_blocked(shape, best.block_steps, best.block_layers)
    best = _cairn.optimal_nested_slots(shape, nesting, int(memory))
    return _cairn.grid_nested(shape, nesting, best.outer_slots, best.inner_slots)


class _Runner:
    """Replays one stream; holds the states between the forward and the backward pass."""

    def __init__(self, cells, inputs, h0, kinds, layers, steps, sizes):
        self.cells, self.inputs, self.h0 = cells, inputs, h0
        self.kinds, self.layers, self.steps = kinds, layers, steps
        self.sizes = sizes  # number of parameters of each cell, in order
        self.held: Dict[Tuple[int, int], Tuple[torch.Tensor, ...]] = {}
        self.i = 0
        self.tape = None

    def left(self, t: int, lay: int) -> Tuple[torch.Tensor, ...]:
        return self.h0[lay] if t == 0 else self.held[(t - 1, lay)]

    def below(self, t: int, lay: int) -> torch.Tensor:
        return self.inputs[t] if lay == 0 else self.held[(t, lay - 1)][0]

    def taped(self, t: int, lay: int):
        below = self.below(t, lay).detach().requires_grad_()
        left = tuple(x.detach().requires_grad_() for x in self.left(t, lay))
        with torch.enable_grad():
            out = _call(self.cells[lay], below, left)
        return below, left, out

    def forward(self) -> torch.Tensor:
        depth, T = len(self.cells), self.inputs.shape[0]
        top: List[Optional[torch.Tensor]] = [None] * T
        n = len(self.kinds)
        with torch.no_grad():
            while self.i < n and self.kinds[self.i] != _REVERSE:
                t, lay = int(self.steps[self.i]), int(self.layers[self.i])
                if self.kinds[self.i] == _COMPUTE:
                    out = _call(self.cells[lay], self.below(t, lay), self.left(t, lay))
                    self.held[(t, lay)] = out
                    if lay == depth - 1:
                        top[t] = out[0]
                else:
                    del self.held[(t, lay)]
                self.i += 1
        t, lay = int(self.steps[self.i]), int(self.layers[self.i])
        # A legal stream reverses the last cell first; taping it here gives its output without
        # an evaluation beyond the plan's.
        self.tape = (t, lay, self.taped(t, lay))
        top[t] = self.tape[2][2][0].detach()
        return torch.stack(top)

    def backward(self, grad_out: torch.Tensor, params: Sequence[torch.Tensor]):
        depth = len(self.cells)
        adj: Dict[Tuple[int, int], List[Optional[torch.Tensor]]] = {}
        g_inputs = torch.zeros_like(self.inputs)
        g_h0: List[List[Optional[torch.Tensor]]] = [[None] * len(h) for h in self.h0]
        g_params: List[Optional[torch.Tensor]] = [None] * len(params)
        offsets = [sum(self.sizes[:k]) for k in range(depth + 1)]

        def add(dst: List[Optional[torch.Tensor]], k: int, g: Optional[torch.Tensor]) -> None:
            if g is None:
                return
            dst[k] = g.clone() if dst[k] is None else dst[k] + g

        def reverse(t: int, lay: int, taped) -> None:
            below, left, out = taped
            a = adj.pop((t, lay), [None] * len(out))
            if lay == depth - 1:
                add(a, 0, grad_out[t])
            a = [torch.zeros_like(o) if g is None else g for o, g in zip(out, a)]
            ps = list(params[offsets[lay]:offsets[lay + 1]])
            grads = torch.autograd.grad(out, [below, *left, *ps], a, allow_unused=True)
            if lay == 0:
                g_inputs[t] += grads[0]
            else:
                add(adj.setdefault((t, lay - 1), [None] * len(self.h0[lay - 1])), 0, grads[0])
            dst = g_h0[lay] if t == 0 else adj.setdefault((t - 1, lay), [None] * len(left))
            for k, g in enumerate(grads[1:1 + len(left)]):
                add(dst, k, g)
            for k, g in enumerate(grads[1 + len(left):]):
                add(g_params, offsets[lay] + k, g)

        t, lay, taped = self.tape
        self.tape = None
        reverse(t, lay, taped)
        self.i += 1
        for i in range(self.i, len(self.kinds)):
            t, lay, kind = int(self.steps[i]), int(self.layers[i]), self.kinds[i]
            if kind == _COMPUTE:
                with torch.no_grad():
                    self.held[(t, lay)] = _call(self.cells[lay], self.below(t, lay),
                                                self.left(t, lay))
            elif kind == _FREE:
                del self.held[(t, lay)]
            else:
                reverse(t, lay, self.taped(t, lay))
        self.held.clear()
        flat_h0 = [g for gs in g_h0 for g in gs]
        return g_inputs, flat_h0, g_params


class _GridFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, runner: _Runner, n_h0: int, inputs, *rest):  # type: ignore[override]
        ctx.runner, ctx.n_h0 = runner, n_h0
        ctx.params = rest[n_h0:]
        return runner.forward()

    @staticmethod
    def backward(ctx, grad_out):  # type: ignore[override]
        g_inputs, g_h0, g_params = ctx.runner.backward(grad_out, ctx.params)
        return (None, None, g_inputs, *g_h0, *g_params)


def checkpoint_grid(cells: Sequence[torch.nn.Module], inputs: torch.Tensor,
                    h0: Optional[Sequence[State]] = None, *, memory: Optional[int] = None,
                    schedule: str = "blocked", block: Optional[Tuple[int, int]] = None,
                    slots: Optional[Tuple[int, int]] = None) -> torch.Tensor:
    """Runs L stacked cells over inputs (T, batch, input_size); returns (T, batch, hidden_top).

    memory=None stores every state; memory=bytes plans within that many state bytes (the per
    layer bytes are those of h0's states, the shape of every cell output) with the optimal
    blocked ("blocked") or nested ("nested_time", "nested_depth") schedule; block=(bt, bl) or
    slots=(outer, inner) choose the plan directly. A budget below the least raises ValueError
    with the planner's message. Gradients flow to inputs, h0 and every cell's parameters.
    """
    cells = list(cells)
    if not cells or inputs.dim() != 3 or inputs.shape[0] < 1:
        raise ValueError("checkpoint_grid: need at least one cell and inputs (T >= 1, batch, n)")
    batch = inputs.shape[1]
    states: List[Tuple[torch.Tensor, ...]] = []
    for lay, cell in enumerate(cells):
        if h0 is not None:
            states.append(_as_tuple(h0[lay]))
            continue
        z = inputs.new_zeros(batch, cell.hidden_size)
        states.append((z, z.clone()) if isinstance(cell, torch.nn.LSTMCell) else (z,))
    layers = [_cairn.GridLayer(state_bytes=sum(x.element_size() * x.numel() for x in s))
              for s in states]
    shape = _cairn.GridShape(int(inputs.shape[0]), layers)
    kinds, lays, steps = _plan(shape, memory, schedule, block, slots)
    params = [list(c.parameters()) for c in cells]
    runner = _Runner(cells, inputs.detach(), [tuple(x.detach() for x in s) for s in states],
                     kinds.tolist(), lays.tolist(), steps.tolist(), [len(p) for p in params])
    flat_h0 = [x for s in states for x in s]
    flat_params = [p for ps in params for p in ps]
    return _GridFunction.apply(runner, len(flat_h0), inputs, *flat_h0, *flat_params)
