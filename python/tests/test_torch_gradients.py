"""cairn.torch.odeint's gradients: equal to plain autograd through the same solver steps (float64,
relative error <= 1e-12), and bitwise equal whatever the number of checkpoints."""
import math

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed (Debian: python3-torch)")
import cairn.torch as ct  # noqa: E402

FIXED = ["euler", "midpoint", "rk4", "rk38", "dopri5", "bosh3"]
ADAPTIVE = ["dopri5", "bosh3"]


class Field(torch.nn.Module):
    """A time-dependent tanh MLP: f(t, y) = W2 tanh(W1 y + b1) * cos(t) + b2."""

    def __init__(self, dim: int = 2, hidden: int = 16, dtype=torch.float64):
        super().__init__()
        generator = torch.Generator().manual_seed(7)
        self.l1 = torch.nn.Linear(dim, hidden, dtype=dtype)
        self.l2 = torch.nn.Linear(hidden, dim, dtype=dtype)
        with torch.no_grad():  # the same values in every dtype
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=generator, dtype=torch.float64) * 0.5)

    def forward(self, t, y):
        return self.l2(torch.tanh(self.l1(y))) * torch.cos(t)


def y_start(dtype=torch.float64):
    generator = torch.Generator().manual_seed(3)
    values = torch.randn(4, 2, generator=generator, dtype=torch.float64)
    return values.to(dtype).requires_grad_(True)


def loss_of(ys):
    weights = torch.linspace(0.5, 1.5, ys.numel(), dtype=ys.dtype).reshape(ys.shape)
    return (weights * ys * ys).sum()


def gradient(func, y0, ys):
    return torch.autograd.grad(loss_of(ys), [y0] + list(func.parameters()))


def relative_error(a, b):
    return max(float((x - y).norm() / y.norm()) for x, y in zip(a, b))


T_OUT = torch.linspace(0.0, 2.0, 5, dtype=torch.float64)


@pytest.mark.parametrize("method", FIXED)
def test_fixed_step_gradient_equals_autograd_and_is_bitwise_independent_of_checkpoints(method):
    func, y0 = Field(), y_start()
    reference = ct.solve_taped(func, y0, T_OUT, method=method, steps_per_interval=13)
    expected = gradient(func, y0, reference)
    results = {}
    for checkpoints in [1, 2, 5, 100, "all"]:
        ys = ct.odeint(func, y0, T_OUT, method=method, steps_per_interval=13,
                       checkpoints=checkpoints)
        assert torch.equal(ys.detach(), reference.detach()), "forward values differ from autograd's"
        results[checkpoints] = gradient(func, y0, ys)
        assert relative_error(results[checkpoints], expected) <= 1e-12
    for checkpoints, grads in results.items():
        for g, g_all in zip(grads, results["all"]):
            assert torch.equal(g, g_all), f"checkpoints={checkpoints} differs from 'all'"


@pytest.mark.parametrize("method", ADAPTIVE)
def test_adaptive_gradient_equals_autograd_through_the_accepted_steps(method):
    func, y0 = Field(), y_start()
    results = {}
    for checkpoints in [2, 4, "all"]:
        stats = {}
        ys = ct.odeint(func, y0, T_OUT, method=method, rtol=1e-8, atol=1e-10,
                       checkpoints=checkpoints, stats=stats)
        reference = ct.solve_taped(func, y0, T_OUT, method=method, recorded=stats)
        assert torch.equal(ys.detach(), reference.detach())
        results[checkpoints] = gradient(func, y0, ys)
        assert relative_error(results[checkpoints], gradient(func, y0, reference)) <= 1e-12
        assert stats["steps"] > 10
    for grads in results.values():
        assert all(torch.equal(g, h) for g, h in zip(grads, results["all"]))


def test_adaptive_solution_meets_its_tolerance():
    # y' = -y: the accepted steps land on every output time and the error is near rtol.
    y0 = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0.0, 0.5, 1.0, 3.0], dtype=torch.float64)
    ys = ct.odeint(lambda t, y: -y, y0, t, method="dopri5", rtol=1e-9, atol=1e-12)
    exact = y0.detach()[None, :] * torch.exp(-t)[:, None]
    assert torch.allclose(ys.detach(), exact, rtol=1e-8, atol=0)
    ys[-1].sum().backward()  # d y(3) / d y0 = exp(-3)
    assert torch.allclose(y0.grad, torch.full((2,), math.exp(-3.0), dtype=torch.float64),
                          rtol=1e-8)


def classic_rk4(func, y0, t, n):
    """An independent plain-autograd RK4, written out."""
    out, y = [y0], y0
    for a, b in zip(t[:-1].tolist(), t[1:].tolist()):
        h = (b - a) / n
        for j in range(n):
            s = a + j * h
            k1 = func(torch.tensor(s, dtype=y.dtype), y)
            k2 = func(torch.tensor(s + h / 2, dtype=y.dtype), y + h / 2 * k1)
            k3 = func(torch.tensor(s + h / 2, dtype=y.dtype), y + h / 2 * k2)
            k4 = func(torch.tensor(s + h, dtype=y.dtype), y + h * k3)
            y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        out.append(y)
    return torch.stack(out)


def test_rk4_agrees_with_an_independent_implementation():
    func, y0 = Field(), y_start()
    ys = ct.odeint(func, y0, T_OUT, method="rk4", steps_per_interval=9, checkpoints=3)
    ref = classic_rk4(func, y0, T_OUT, 9)
    assert torch.allclose(ys.detach(), ref.detach(), rtol=1e-13, atol=1e-15)
    assert relative_error(gradient(func, y0, ys), gradient(func, y0, ref)) <= 1e-12


def test_step_size_splits_each_interval_into_equal_steps():
    stats = {}
    t = torch.tensor([0.0, 1.0, 1.25, 2.0], dtype=torch.float64)
    ct.odeint(lambda t, y: -y, torch.ones(1, dtype=torch.float64, requires_grad=True), t,
              method="euler", step_size=0.1, stats=stats)
    assert stats["steps"] == 10 + 3 + 8


def test_float32():
    func64, y64 = Field(), y_start()
    func32, y32 = Field(dtype=torch.float32), y_start(torch.float32)
    t32 = T_OUT.to(torch.float32)
    g64 = gradient(func64, y64, ct.odeint(func64, y64, T_OUT, method="rk4", steps_per_interval=8,
                                          checkpoints=3))
    ys32 = ct.odeint(func32, y32, t32, method="rk4", steps_per_interval=8, checkpoints=3)
    assert ys32.dtype == torch.float32
    g32 = gradient(func32, y32, ys32)
    assert all(g.dtype == torch.float32 for g in g32)
    assert relative_error([g.double() for g in g32], g64) < 1e-4
    ref32 = gradient(func32, y32, ct.solve_taped(func32, y32, t32, method="rk4",
                                                 steps_per_interval=8))
    assert relative_error(g32, ref32) < 1e-5


def test_requires_grad_is_respected():
    func, y0 = Field(), y_start().detach()
    for p in func.parameters():
        p.requires_grad_(False)
    stats = {}
    ys = ct.odeint(func, y0, T_OUT, method="rk4", stats=stats)
    assert not ys.requires_grad and "checkpoint_bytes" not in stats
    # Parameters only: the gradient reaches them, not y0.
    func.l1.weight.requires_grad_(True)
    ys = ct.odeint(func, y0, T_OUT, method="rk4", checkpoints=2)
    (g,) = torch.autograd.grad(loss_of(ys), [func.l1.weight])
    ref = ct.solve_taped(func, y0, T_OUT, method="rk4")
    (g_ref,) = torch.autograd.grad(loss_of(ref), [func.l1.weight])
    assert relative_error([g], [g_ref]) <= 1e-12
    with torch.no_grad():
        assert not ct.odeint(func, y_start(), T_OUT, method="rk4").requires_grad


def test_adjoint_params_for_a_plain_function():
    a = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)
    y0 = torch.tensor([1.0, 1.0], dtype=torch.float64)
    ys = ct.odeint(lambda t, y: a * y, y0, T_OUT, method="rk4", steps_per_interval=20,
                   adjoint_params=(a,), checkpoints=3)
    (g,) = torch.autograd.grad(ys[-1].sum(), [a])
    # d/da exp(2 a) = 2 exp(2 a), up to RK4's error.
    assert torch.allclose(g, 2 * torch.exp(2 * a.detach()), rtol=1e-6)


def test_tuple_state_gives_the_gradient_of_the_packed_state():
    func, y0 = Field(), y_start()

    def split_func(t, parts):
        y = torch.stack(parts, dim=-1)
        f = func(t, y)
        return f[..., 0], f[..., 1]

    parts = (y0[:, 0].detach().clone().requires_grad_(True),
             y0[:, 1].detach().clone().requires_grad_(True))
    ys = ct.odeint(split_func, parts, T_OUT, method="rk4", checkpoints=2, adjoint_params=tuple(
        func.parameters()))
    assert isinstance(ys, tuple) and ys[0].shape == (5, 4)
    ref = ct.odeint(func, y0, T_OUT, method="rk4", checkpoints=2)
    assert torch.allclose(torch.stack(ys, dim=-1).detach(), ref.detach(), rtol=1e-14, atol=0)
    g_parts = torch.autograd.grad(loss_of(torch.stack(ys, dim=-1)), parts)
    (g_ref,) = torch.autograd.grad(loss_of(ref), [y0])
    assert torch.allclose(torch.stack(g_parts, dim=-1), g_ref, rtol=1e-12, atol=1e-15)


def test_decreasing_times_integrate_backwards():
    y0 = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([1.0, 0.5, 0.0], dtype=torch.float64)
    for method in ["rk4", "dopri5"]:
        ys = ct.odeint(lambda t, y: -y, y0, t, method=method, step_size=0.01
                       if method == "rk4" else None, rtol=1e-10, atol=1e-12)
        assert torch.allclose(ys[-1].detach(), torch.exp(torch.tensor([1.0], dtype=torch.float64)),
                              rtol=1e-8)


def test_one_output_time_is_the_identity():
    y0 = y_start()
    ys = ct.odeint(Field(), y0, T_OUT[:1])
    assert ys.shape == (1, 4, 2) and torch.equal(ys[0].detach(), y0.detach())
    (g,) = torch.autograd.grad(ys.sum(), [y0])
    assert torch.equal(g, torch.ones_like(y0))


def test_offload_level_on_the_cpu_gives_the_same_gradient():
    func, y0 = Field(), y_start()
    base = gradient(func, y0, ct.odeint(func, y0, T_OUT, method="rk4", steps_per_interval=10,
                                        checkpoints="all"))
    stats = {}
    ys = ct.odeint(func, y0, T_OUT, method="rk4", steps_per_interval=10, checkpoints=2,
                   offload=3, stats=stats)
    grads = gradient(func, y0, ys)
    assert all(torch.equal(g, h) for g, h in zip(grads, base))
    assert stats["schedule"] == "multilevel"


@pytest.mark.parametrize("kwargs, phrase", [
    (dict(method="heun3"), "unknown method 'heun3'"),
    (dict(checkpoints=0), "checkpoints must be an integer >= 1 or 'all'"),
    (dict(checkpoints="most"), "checkpoints must be an integer >= 1 or 'all'"),
    (dict(offload=-1, method="rk4"), "offload must be an integer >= 0"),
    (dict(offload=2), "offload plans over two levels"),
    (dict(offload=2, offload_cost=-1.0, method="rk4"), "offload_cost must be a finite number"),
    (dict(options={"stepsize": 0.1}), "unknown options ['stepsize']"),
    (dict(step_size=0.0, method="rk4"), "step_size must be a finite number > 0"),
    (dict(step_size=0.1, steps_per_interval=3, method="rk4"), "not both"),
    (dict(steps_per_interval=0, method="rk4"), "steps_per_interval must be an integer >= 1"),
])
def test_bad_arguments_raise_value_error(kwargs, phrase):
    with pytest.raises(ValueError) as info:
        ct.odeint(Field(), y_start(), T_OUT, **kwargs)
    assert phrase in str(info.value)


def test_bad_times_raise_value_error():
    for t, phrase in [(torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64), "strictly"),
                      (torch.tensor([[0.0, 1.0]]), "1-D"),
                      (torch.tensor([0.0, float("nan")]), "finite"),
                      (T_OUT.clone().requires_grad_(True), "with respect to t")]:
        with pytest.raises(ValueError, match=phrase):
            ct.odeint(Field(), y_start(), t, method="rk4")


def test_a_second_backward_is_refused_clearly():
    func, y0 = Field(), y_start()
    ys = ct.odeint(func, y0, T_OUT, method="rk4", checkpoints=2)
    loss = loss_of(ys)
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="already differentiated once"):
        loss.backward()


def test_double_backward_is_refused_clearly():
    func, y0 = Field(), y_start()
    ys = ct.odeint(func, y0, T_OUT, method="rk4", checkpoints=2)
    (g,) = torch.autograd.grad(loss_of(ys), [y0], create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable|does not require grad"):
        g.sum().backward()


def test_an_exception_in_func_propagates_and_a_new_solve_works():
    func, y0 = Field(), y_start()
    calls = {"n": 0}

    def flaky(t, y):
        calls["n"] += 1
        if calls["n"] == 30:
            raise FloatingPointError("boom")
        return func(t, y)

    ys = ct.odeint(flaky, y0, T_OUT, method="rk4", checkpoints=2, adjoint_params=tuple(
        func.parameters()))
    with pytest.raises(FloatingPointError, match="boom"):
        loss_of(ys).backward()
    ys = ct.odeint(func, y0, T_OUT, method="rk4", checkpoints=2)
    loss_of(ys).backward()
    assert y0.grad is not None
