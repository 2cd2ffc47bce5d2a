"""cairn.torch.checkpoint_grid: exact gradients and the plan's evaluation count."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import cairn  # noqa: E402
from cairn import _cairn  # noqa: E402
from cairn.torch import checkpoint_grid  # noqa: E402


@pytest.fixture(autouse=True)
def float64_by_default():
    """These tests build their cells in float64; others in the same pytest run must not."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


class Counted(torch.nn.Module):
    """Counts the forward calls of the cell it wraps."""

    def __init__(self, cell):
        super().__init__()
        self.cell, self.calls = cell, 0
        self.hidden_size = cell.hidden_size

    def forward(self, x, h):
        self.calls += 1
        return self.cell(x, h)


def make(kind, T, L, seed):
    torch.manual_seed(seed)
    batch, n_in = 3, 4
    hidden = [4 + (k % 2) for k in range(L)] if kind == "rnn" else [5] * L
    cls = {"rnn": torch.nn.RNNCell, "gru": torch.nn.GRUCell, "lstm": torch.nn.LSTMCell}[kind]
    cells = [Counted(cls(n_in if k == 0 else hidden[k - 1], hidden[k])) for k in range(L)]
    x = torch.randn(T, batch, n_in, requires_grad=True)
    h0 = []
    for k in range(L):
        if kind == "lstm":
            h0.append((torch.randn(batch, hidden[k], requires_grad=True),
                       torch.randn(batch, hidden[k], requires_grad=True)))
        else:
            h0.append(torch.randn(batch, hidden[k], requires_grad=True))
    w = torch.randn(T, batch, hidden[-1])
    return cells, x, h0, w


def leaves(cells, x, h0):
    out = [x]
    for s in h0:
        out.extend(s if isinstance(s, tuple) else (s,))
    for c in cells:
        out.extend(c.parameters())
    return out


def plain(cells, x, h0):
    state = list(h0)
    ys = []
    for t in range(x.shape[0]):
        below = x[t]
        for k, c in enumerate(cells):
            state[k] = c(below, state[k])
            below = state[k][0] if isinstance(state[k], tuple) else state[k]
        ys.append(below)
    return torch.stack(ys)


def grads(fn, cells, x, h0, w):
    y = fn()
    loss = (y * y * w).sum()
    return y.detach(), torch.autograd.grad(loss, leaves(cells, x, h0))


def shape_of(h0):
    layers = []
    for s in h0:
        s = s if isinstance(s, tuple) else (s,)
        layers.append(_cairn.GridLayer(state_bytes=sum(v.element_size() * v.numel() for v in s)))
    return layers


PLANS = [dict(), dict(block=(1, 1)), dict(block=(2, 1)), dict(block=(3, 2)),
         dict(block=(4, 3)), dict(schedule="nested_time", slots=(2, 2)),
         dict(schedule="nested_depth", slots=(2, 3)), dict(memory="mid")]


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("T,L", [(7, 2), (11, 3), (15, 4)])
@pytest.mark.parametrize("plan", range(len(PLANS)))
def test_gradients_match_plain_autograd(kind, T, L, plan):
    cells, x, h0, w = make(kind, T, L, seed=T * 10 + L)
    opts = dict(PLANS[plan])
    shape = _cairn.GridShape(T, shape_of(h0))
    if opts.get("memory") == "mid":
        # A budget between the least and store-all's: what a (3, 1) blocking peaks at.
        opts["memory"] = _cairn.blocked_costs(shape, 3, 1).peak_state_bytes
    if "block" in opts:  # ragged where bt or bl does not divide T or L
        opts["block"] = (min(opts["block"][0], T), min(opts["block"][1], L))
    y_ref, g_ref = grads(lambda: plain(cells, x, h0), cells, x, h0, w)
    for c in cells:
        c.calls = 0
    y, g = grads(lambda: checkpoint_grid(cells, x, h0, **opts), cells, x, h0, w)
    assert torch.equal(y, y_ref)
    for a, b in zip(g, g_ref):
        assert (a - b).abs().max().item() <= 1e-12 * max(b.abs().max().item(), 1e-300)
    # The evaluations are exactly the plan's computes and reverses.
    if "block" in opts:
        kinds, lays, steps = _cairn.grid_blocked(shape, *opts["block"])
    elif "slots" in opts:
        nest = (_cairn.GridNesting.time_outer if opts["schedule"] == "nested_time"
                else _cairn.GridNesting.depth_outer)
        kinds, lays, steps = _cairn.grid_nested(shape, nest, *opts["slots"])
    elif "memory" in opts:
        best = _cairn.optimal_block_sizes(shape, opts["memory"])
        kinds, lays, steps = _cairn.grid_blocked(shape, best.block_steps, best.block_layers)
    else:
        kinds, lays, steps = _cairn.grid_store_all(shape)
    costs = _cairn.check_grid(shape, kinds, lays, steps)
    assert costs.legal
    assert sum(c.calls for c in cells) == costs.computes + costs.reverses


def test_too_small_memory_names_the_least():
    cells, x, h0, w = make("gru", 9, 3, seed=1)
    with pytest.raises(ValueError, match=r"needs \d+ at least"):
        checkpoint_grid(cells, x, h0, memory=1)


@pytest.mark.parametrize("T,L,bt,bl", [(7, 2, 2, 1), (11, 3, 3, 2), (15, 4, 4, 3), (10, 5, 10, 5)])
def test_check_grid_of_blocked_matches_blocked_costs(T, L, bt, bl):
    shape = _cairn.GridShape(T, [_cairn.GridLayer(state_bytes=8 * (k + 1)) for k in range(L)])
    kinds, lays, steps = _cairn.grid_blocked(shape, bt, bl)
    assert kinds.dtype == np.uint8 and lays.dtype == np.int32 and steps.dtype == np.int64
    got = _cairn.check_grid(shape, kinds, lays, steps)
    want = _cairn.blocked_costs(shape, bt, bl)
    assert got.legal
    assert got.computes == want.computes
    assert got.recomputes == want.recomputes
    assert got.max_computes_per_cell == want.max_computes_per_cell
    assert got.peak_state_bytes == want.peak_state_bytes
    assert got.reverses == T * L
    assert cairn is not None


@pytest.mark.parametrize("schedule", ["nested_time", "nested_depth"])
def test_default_h0_and_nested_memory(schedule):
    cells, x, h0, w = make("lstm", 12, 3, seed=5)
    # Default zero states are built for nn.LSTMCell itself (a wrapper would need h0 given).
    cells = [c.cell for c in cells]
    zeros = [(torch.zeros_like(h), torch.zeros_like(c)) for h, c in h0]
    shape = _cairn.GridShape(12, shape_of(h0))
    full = _cairn.check_grid(shape, *_cairn.grid_store_all(shape)).peak_state_bytes
    y_ref, g_ref = grads(lambda: plain(cells, x, zeros), cells, x, [], w)
    y, g = grads(lambda: checkpoint_grid(cells, x, memory=full // 2, schedule=schedule),
                 cells, x, [], w)
    assert torch.equal(y, y_ref)
    for a, b in zip(g, g_ref):
        assert (a - b).abs().max().item() <= 1e-12 * max(b.abs().max().item(), 1e-300)
