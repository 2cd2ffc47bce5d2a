"""cairn.torch.odeint(..., keep_adjoint_data=True): planned by cairn.MixedRevolve (by Revolve
where a kept step would not fit in the budget), some steps' autograd graphs kept and reversed
without re-running them.

- The outputs and the gradients (y0 and parameters) are bitwise equal (torch.equal) to the
  Revolve path's with the same checkpoints, for every fixed-step method, several T, budgets and
  adjoint sizes, with outputs at several times.
- func is called exactly S (F + 1) times, F the checker's forward_evaluations (untaped plus taped
  steps) of the same stream, S the method's stages; the +1 is the forward pass's last step to x_T,
  as on the Revolve path. Measuring w adds two taped steps (2 S) to the forward pass, or one
  where the first shows that a kept step cannot fit in the budget.
- The measured size of a kept step is what its graph holds, in known cases.
- The option is refused where it cannot plan: adaptive steps, offload, checkpoints='all'.
"""
import gc
import weakref

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed (Debian: python3-torch)")
import cairn  # noqa: E402
import cairn.torch as ct  # noqa: E402

STAGES = {"euler": 1, "midpoint": 2, "rk4": 4, "rk38": 4, "dopri5": 6, "bosh3": 3}
T_OUT = torch.tensor([0.0, 0.3, 0.5, 1.2, 2.0], dtype=torch.float64)


class Field(torch.nn.Module):
    """A time-dependent tanh MLP, f(t, y) = W2 tanh(W1 y + b1) cos(t) + b2, counting its calls."""

    def __init__(self, dim: int = 3, hidden: int = 5):
        super().__init__()
        generator = torch.Generator().manual_seed(11)
        self.l1 = torch.nn.Linear(dim, hidden, dtype=torch.float64)
        self.l2 = torch.nn.Linear(hidden, dim, dtype=torch.float64)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=generator, dtype=torch.float64) * 0.5)
        self.calls = 0

    def forward(self, t, y):
        self.calls += 1
        return self.l2(torch.tanh(self.l1(y))) * torch.cos(t)


def y_start(dim: int = 3) -> torch.Tensor:
    generator = torch.Generator().manual_seed(5)
    return torch.randn(2, dim, generator=generator, dtype=torch.float64).requires_grad_(True)


def gradients(func, y0, ys):
    weights = torch.linspace(0.5, 1.5, ys.numel(), dtype=ys.dtype).reshape(ys.shape)
    return torch.autograd.grad((weights * ys * ys).sum(), [y0] + list(func.parameters()))


def solve(func, y0, method, T, C, **kwargs):
    stats = {}
    ys = ct.odeint(func, y0, T_OUT, method=method, steps_per_interval=T, checkpoints=C,
                   stats=stats, **kwargs)
    return ys, gradients(func, y0, ys), stats


@pytest.mark.parametrize("method", sorted(STAGES))
@pytest.mark.parametrize("T, C, w", [(1, 1, 1), (3, 2, 1), (5, 3, 2), (9, 4, 3), (9, 40, 2),
                                     (13, 6, None), (13, 30, None)])
def test_gradient_is_bitwise_the_revolve_one(method, T, C, w):
    func, y0 = Field(), y_start()
    ys, grads, _ = solve(func, y0, method, T, C)
    ys_mixed, grads_mixed, stats = solve(func, y0, method, T, C, keep_adjoint_data=True,
                                         adjoint_units=w)
    # A kept step larger than the budget can never be kept: Revolve plans then.
    assert stats["schedule"] == ("mixed" if stats["adjoint_units"] <= C else "revolve")
    assert stats["keep_adjoint_data"]
    assert torch.equal(ys_mixed.detach(), ys.detach())
    for g, g_mixed in zip(grads, grads_mixed):
        assert torch.equal(g_mixed, g)
    steps = 4 * T
    expected = cairn.check(cairn.MixedRevolve(steps, C, adjoint_units=stats["adjoint_units"]),
                           steps, C).costs
    assert stats["stored_reverses"] == expected.stored_reverses
    if w is not None and C >= 2 * w and steps > 1:
        assert stats["stored_reverses"] > 0  # the schedule did keep adjoint data


@pytest.mark.parametrize("method", ["euler", "rk4", "dopri5"])
@pytest.mark.parametrize("T, C, w", [(2, 1, 1), (7, 2, 1), (30, 3, 1), (30, 5, 2), (64, 4, 3),
                                     (20, 50, 4), (25, 6, None)])
def test_evaluations_are_what_the_checker_counts(method, T, C, w):
    func, y0 = Field(), y_start()
    stats = {}
    ys = ct.odeint(func, y0, torch.tensor([0.0, 1.0], dtype=torch.float64), method=method,
                   steps_per_interval=T, checkpoints=C, stats=stats, keep_adjoint_data=True,
                   adjoint_units=w)
    S = STAGES[method]
    measure = stats["evaluations_measure"]
    if w is not None:
        assert measure == 0
    else:  # a second taped step only where the first did not already exceed the budget
        assert measure == (S if stats["adjoint_units"] > C else 2 * S)
    assert func.calls == stats["evaluations_forward"]
    ys[-1].sum().backward()
    schedule = cairn.MixedRevolve(T, C, adjoint_units=stats["adjoint_units"])
    costs = cairn.check(schedule, T, C).costs
    assert stats["planned_forward_evaluations"] == costs.forward_evaluations
    assert costs.forward_evaluations == schedule.forward_evaluations
    assert func.calls == S * (costs.forward_evaluations + 1) + measure
    assert stats["evaluations_forward"] + stats["evaluations_backward"] == func.calls
    assert stats["reverses"] == T
    assert stats["stored_reverses"] == costs.stored_reverses
    assert stats["adjoint_stores"] == costs.adjoint_stores
    assert stats["peak_units"] == costs.levels[0].peak_units <= C
    # The forward pass: measuring, the first sweep's advances and store_adjoints, the last step.
    first_sweep_stores = stats["adjoint_stores"] - stats["adjoint_stores_backward"]
    first_sweep_advances = (stats["evaluations_forward"] - measure) // S - 1 - first_sweep_stores
    assert first_sweep_advances + stats["recomputed_steps"] == costs.forward_steps


def test_intermediate_outputs_decreasing_times_and_uneven_intervals():
    func, y0 = Field(), y_start()
    t = torch.tensor([1.0, 0.8, 0.1, -0.05, -1.0], dtype=torch.float64)
    results = []
    for keep in (False, True):
        ys = ct.odeint(func, y0, t, method="rk4", step_size=0.07, checkpoints=4,
                       keep_adjoint_data=keep, adjoint_units=1 if keep else None)
        results.append((ys.detach(), gradients(func, y0, ys)))
    (ys, grads), (ys_mixed, grads_mixed) = results
    assert torch.equal(ys_mixed, ys)
    assert all(torch.equal(a, b) for a, b in zip(grads_mixed, grads))


def test_tuple_state_and_adjoint_params():
    weight = torch.tensor([[0.3, -0.2], [0.1, 0.4]], dtype=torch.float64, requires_grad=True)

    def func(t, state):
        a, b = state
        return torch.tanh(b @ weight), -a

    a0 = torch.tensor([[0.5, -1.0]], dtype=torch.float64, requires_grad=True)
    b0 = torch.tensor([[1.5, 0.2]], dtype=torch.float64, requires_grad=True)
    t = torch.linspace(0.0, 1.0, 4, dtype=torch.float64)
    results = []
    for keep in (False, True):
        a, b = ct.odeint(func, (a0, b0), t, method="midpoint", steps_per_interval=6,
                         checkpoints=5, adjoint_params=[weight], keep_adjoint_data=keep)
        results.append(torch.autograd.grad((a * a).sum() + b.sum(), [a0, b0, weight]))
    assert all(torch.equal(g, h) for g, h in zip(*results))


def test_measured_size_of_a_linear_field():
    """f(y) = y W^T (no bias): autograd saves each stage's input (W is shared, not the step's), so
    a kept step holds its S stage inputs (the first is x_i) and x_i+1: S + 1 states."""
    linear = torch.nn.Linear(6, 6, bias=False, dtype=torch.float64)
    y0 = torch.ones(4, 6, dtype=torch.float64, requires_grad=True)
    state_bytes = y0.numel() * y0.element_size()
    for method in ("euler", "rk4", "dopri5"):
        stats = {}
        ct.odeint(lambda t, y: linear(y), y0, T_OUT, method=method, steps_per_interval=2,
                  checkpoints=3, keep_adjoint_data=True, adjoint_params=list(linear.parameters()),
                  stats=stats)
        S = STAGES[method]
        assert stats["adjoint_bytes_per_step"] == (S + 1) * state_bytes, method
        assert stats["adjoint_units"] == S + 1


def test_measured_size_of_an_mlp_and_of_a_captured_constant():
    # rk4, 3-6-3 tanh MLP: per stage its input and tanh's output (6/3 = 2 states; the second
    # layer saves the same tensor), plus x_i+1: 4 (1 + 2) + 1 = 13 states.
    func, y0 = Field(dim=3, hidden=6), y_start(dim=3)
    stats = {}
    ct.odeint(func, y0, T_OUT, method="rk4", steps_per_interval=3, checkpoints=20,
              keep_adjoint_data=True, stats=stats)
    assert stats["adjoint_bytes_per_step"] == 13 * y0.numel() * y0.element_size()
    assert stats["adjoint_units"] == 13
    # y A with A a constant: autograd saves A only (shared by every step), so a kept step holds
    # just x_i and x_i+1.
    A = torch.randn(3, 3, dtype=torch.float64)
    stats = {}
    ct.odeint(lambda t, y: y @ A, y0, T_OUT, method="rk4", steps_per_interval=3, checkpoints=10,
              keep_adjoint_data=True, stats=stats)
    assert stats["adjoint_bytes_per_step"] == 2 * y0.numel() * y0.element_size()
    assert stats["adjoint_units"] == 2
    assert stats["evaluations_measure"] == 2 * 4  # two taped steps


def test_a_step_too_large_for_the_budget_is_measured_once():
    # The MLP's 13 states do not fit in 4: the first taped step shows it (the parameters left
    # out), and no second one is run.
    func, y0 = Field(dim=3, hidden=6), y_start(dim=3)
    stats = {}
    ys = ct.odeint(func, y0, T_OUT, method="rk4", steps_per_interval=3, checkpoints=4,
                   keep_adjoint_data=True, stats=stats)
    assert stats["evaluations_measure"] == 4
    assert stats["adjoint_units"] == 13
    assert stats["schedule"] == "revolve" and stats["plan_table_bytes"] == 0
    ys.sum().backward()
    assert stats["stored_reverses"] == 0


def test_measured_size_keeps_data_of_a_field_narrower_than_its_state():
    # An 8-2-8 MLP: 1 + 2/8 states per rk4 stage, so w = 4 * 1.25 + 1 = 6; 12 units keep some.
    func, y0 = Field(dim=8, hidden=2), y_start(dim=8)
    ys, grads, _ = solve(func, y0, "rk4", 5, 12)
    ys_mixed, grads_mixed, stats = solve(func, y0, "rk4", 5, 12, keep_adjoint_data=True)
    assert stats["adjoint_units"] == 6 and stats["stored_reverses"] > 0
    assert stats["schedule"] == "mixed" and 0 < stats["plan_actions_bytes"] \
        < stats["plan_table_bytes"]
    assert torch.equal(ys_mixed.detach(), ys.detach())
    assert all(torch.equal(g, h) for g, h in zip(grads_mixed, grads))


def test_a_first_sweep_that_ends_with_a_kept_last_step(monkeypatch):
    """A stream (written here; MixedRevolve re-runs the last step instead) that keeps every
    step's graph, the last one included: the forward pass has x_T from the kept step, makes no
    extra step, and the backward pass evaluates nothing."""
    import numpy

    S, T = STAGES["rk4"], 3
    actions = [(int(cairn.ActionKind.STORE_ADJOINT), 0, i, i, 0) for i in range(T)]
    actions += [(int(cairn.ActionKind.REVERSE_STORED), 0, i, i, 0) for i in reversed(range(T))]
    actions.append((int(cairn.ActionKind.END), 0, 0, 0, 0))
    stream = numpy.array(actions, dtype=cairn.MixedRevolve(1, 1).next_actions(1).dtype)
    assert cairn.check(stream, T, [T]).legal

    class Written:
        name, table_bytes, forward_evaluations = "written", 0, T

        def __init__(self):
            self.batches = [stream]

        def next_actions(self, count):
            return self.batches.pop() if self.batches else stream[:0]

    func, y0 = Field(), y_start()
    t = torch.tensor([0.0, 0.4, 1.0], dtype=torch.float64)
    ys = ct.odeint(func, y0, t, method="rk4", step_size=0.4, checkpoints=T)
    expected = gradients(func, y0, ys)
    monkeypatch.setattr("cairn.torch._odeint._fixed_schedule", lambda *args: Written())
    func.calls = 0
    ys_kept = ct.odeint(func, y0, t, method="rk4", step_size=0.4, checkpoints=T,
                        keep_adjoint_data=True, adjoint_units=1)
    assert func.calls == S * T
    assert torch.equal(ys_kept.detach(), ys.detach())
    assert all(torch.equal(g, h) for g, h in zip(gradients(func, y0, ys_kept), expected))
    assert func.calls == S * T


def test_every_graph_is_freed():
    """The measuring graphs and the kept graphs are gone once the gradient is computed: a tensor
    autograd saved (tanh's output) is not kept alive by a reference cycle."""
    refs = []

    class Recording(Field):
        def forward(self, t, y):
            hidden = torch.tanh(self.l1(y))
            refs.append(weakref.ref(hidden))
            return self.l2(hidden) * torch.cos(t)

    func, y0 = Recording(dim=8, hidden=2), y_start(dim=8)
    ys, _, stats = solve(func, y0, "rk4", 5, 12, keep_adjoint_data=True)
    assert stats["stored_reverses"] > 0 and stats["evaluations_measure"] > 0
    del ys
    gc.collect()
    assert refs and all(r() is None for r in refs)


def test_without_gradients_it_only_integrates():
    func = Field()
    for p in func.parameters():
        p.requires_grad_(False)
    stats = {}
    ys = ct.odeint(func, y_start().detach(), T_OUT, method="rk4", steps_per_interval=5,
                   checkpoints=2, keep_adjoint_data=True, stats=stats)
    assert func.calls == 4 * 20 and not ys.requires_grad  # no measuring, no schedule
    assert "keep_adjoint_data" not in stats and "schedule" not in stats


def test_second_backward_is_refused():
    func, y0 = Field(), y_start()
    ys = ct.odeint(func, y0, T_OUT, method="rk4", steps_per_interval=3, checkpoints=2,
                   keep_adjoint_data=True, adjoint_units=1)
    loss = ys.sum()
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="already differentiated"):
        loss.backward()


@pytest.mark.parametrize("kwargs, message", [
    (dict(method="dopri5"), "adaptive"),
    (dict(method="bosh3", rtol=1e-6), "adaptive"),
    (dict(method="rk4", steps_per_interval=4, offload=2), "offload"),
    (dict(method="rk4", steps_per_interval=4, checkpoints="all"), "number of checkpoints"),
    (dict(method="rk4", steps_per_interval=4, keep_adjoint_data="yes"), "True or False"),
    (dict(method="rk4", steps_per_interval=4, adjoint_units=0), "integer >= 1"),
])
def test_refused(kwargs, message):
    func, y0 = Field(), y_start()
    kwargs = dict(dict(keep_adjoint_data=True), **kwargs)
    with pytest.raises(ValueError, match=message):
        ct.odeint(func, y0, T_OUT, **kwargs)


def test_adjoint_units_needs_the_option():
    with pytest.raises(ValueError, match="needs keep_adjoint_data=True"):
        ct.odeint(Field(), y_start(), T_OUT, method="rk4", adjoint_units=3)


@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="no CUDA device: torch.cuda.is_available() is false")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_on_a_cuda_device(dtype):
    torch.manual_seed(2)
    net = torch.nn.Sequential(torch.nn.Linear(16, 4), torch.nn.Tanh(),
                              torch.nn.Linear(4, 16)).to(device="cuda", dtype=dtype)
    y0 = (0.5 * torch.randn(64, 16, device="cuda", dtype=dtype)).requires_grad_(True)
    t = torch.linspace(0, 1, 5, device="cuda", dtype=dtype)
    results = []
    for keep in (False, True):
        stats = {}
        ys = ct.odeint(lambda t, y: net(y), y0, t, method="rk4", steps_per_interval=10,
                       checkpoints=12, adjoint_params=tuple(net.parameters()),
                       keep_adjoint_data=keep, stats=stats)
        grads = torch.autograd.grad(ys.square().sum(), [y0] + list(net.parameters()))
        results.append((ys.detach(), grads, stats))
    (ys, grads, _), (ys_kept, grads_kept, stats) = results
    assert stats["adjoint_units"] == 6 and stats["stored_reverses"] > 0  # 4 (1 + 1/4) + 1
    assert ys_kept.is_cuda and torch.equal(ys_kept, ys)
    assert all(torch.equal(g, h) for g, h in zip(grads_kept, grads))
