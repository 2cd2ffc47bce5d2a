"""How often cairn.torch.odeint evaluates the vector field: exactly what the schedule's forward
steps, the taped reverses and the method's stages imply.

Fixed steps, S stages per step (euler 1, midpoint 2, rk4 and rk38 4, dopri5 6 and bosh3 3 at
fixed step: their last, first-same-as-last stage is not part of the solution), T steps, C
checkpoints, Revolve's t = t(T, C) = r T - C(C + r, C + 1) forward steps:
  forward pass  S T              (the first sweep to x_T-1, then the step to x_T)
  backward pass S (t - (T - 1))  (the schedule's remaining advances)
              + S T              (each step re-run under autograd once, then reversed)
  total         S (t + 1 + T);   with checkpoints='all' (t = T - 1): 2 S T.

Adaptive (dopri5: s = 6, bosh3: s = 3 new stages per attempt, FSAL), A attempts (accepted +
rejected), F the advances of OnlineRevolve's reverse stream after T steps:
  forward pass  1 (f(t0, y0)) + 1 (the starting step's probe, unless first_step) + s A
  backward pass S (F + T).
"""
import math

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed (Debian: python3-torch)")
import cairn  # noqa: E402
import cairn.torch as ct  # noqa: E402

STAGES = {"euler": 1, "midpoint": 2, "rk4": 4, "rk38": 4, "dopri5": 6, "bosh3": 3}


def revolve_forward_steps(T: int, c: int) -> int:
    r = 0
    while math.comb(c + r, c) < T:
        r += 1
    return r * T - math.comb(c + r, c + 1)


class Counted(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(3, 3, dtype=torch.float64)
        self.calls = 0

    def forward(self, t, y):
        self.calls += 1
        return torch.tanh(self.linear(y)) - 0.1 * y


def test_the_revolve_formula_matches_the_library():
    for T in range(1, 80):
        for c in range(1, 7):
            assert cairn.forward_cost(T, c) == revolve_forward_steps(T, c)
    assert revolve_forward_steps(100, 3) == 490


@pytest.mark.parametrize("method", sorted(STAGES))
@pytest.mark.parametrize("T, C", [(1, 1), (2, 1), (7, 2), (30, 3), (64, 4), (100, 3), (50, 60)])
def test_fixed_step_evaluations(method, T, C):
    func = Counted()
    y0 = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    stats = {}
    ys = ct.odeint(func, y0, t, method=method, steps_per_interval=T, checkpoints=C, stats=stats)
    S = STAGES[method]
    assert func.calls == stats["evaluations_forward"] == S * T
    ys[-1].sum().backward()
    t_revolve = revolve_forward_steps(T, C)
    assert stats["evaluations_backward"] == S * (t_revolve - (T - 1) + T)
    assert func.calls == S * (t_revolve + 1 + T)
    assert stats["reverses"] == T and stats["recomputed_steps"] == t_revolve - (T - 1)
    assert stats["peak_checkpoints"] <= C


@pytest.mark.parametrize("method", ["rk4", "dopri5"])
def test_store_all_evaluates_each_step_twice(method):
    func = Counted()
    y0 = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
    ys = ct.odeint(func, y0, torch.linspace(0, 1, 4, dtype=torch.float64), method=method,
                   steps_per_interval=11, checkpoints="all")
    ys.sum().backward()
    assert func.calls == 2 * STAGES[method] * 33


def online_reverse_advances(T: int, c: int) -> int:
    """F: forward steps of OnlineRevolve's reverse stream after a run of T steps, found by running
    the schedule's protocol by hand."""
    online = cairn.OnlineRevolve(c)
    online.start()
    for _ in range(T):
        online.advanced()
    online.finish()
    return sum(int(a.to - a.step) for a in online if a.kind == cairn.ActionKind.ADVANCE)


@pytest.mark.parametrize("method, new_stages", [("dopri5", 6), ("bosh3", 3)])
@pytest.mark.parametrize("C", [2, 5])
def test_adaptive_evaluations(method, new_stages, C):
    func = Counted()
    y0 = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0.0, 0.7, 4.0], dtype=torch.float64)
    stats = {}
    ys = ct.odeint(func, y0, t, method=method, rtol=1e-9, atol=1e-11, checkpoints=C, stats=stats)
    T, attempts = stats["steps"], stats["accepted"] + stats["rejected"]
    assert stats["accepted"] == T > 10
    assert func.calls == stats["evaluations_forward"] == 2 + new_stages * attempts
    ys.sum().backward()
    F = online_reverse_advances(T, C)
    assert stats["recomputed_steps"] == F
    assert stats["evaluations_backward"] == STAGES[method] * (F + T)
    assert stats["peak_checkpoints"] <= C
    # With first_step the starting probe is skipped.
    func.calls = 0
    ct.odeint(func, y0.detach(), t, method=method, options={"first_step": 0.01})
    assert func.calls >= 1 + new_stages and (func.calls - 1) % new_stages == 0
