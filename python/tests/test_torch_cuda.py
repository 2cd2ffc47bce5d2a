"""cairn.torch.odeint on a CUDA device: checkpoints stay in device memory, the optional offload
level lives in pinned host memory, and the gradients are the same as without checkpointing.

Skipped, with the reason, where torch.cuda.is_available() is false; the same file runs unchanged
on a machine with a device (bench/gpu_check.sh runs it there)."""
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed (Debian: python3-torch)")
import cairn.torch as ct  # noqa: E402
from cairn.torch import _storage  # noqa: E402

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="no CUDA device: torch.cuda.is_available() is false")


def field(dtype):
    torch.manual_seed(1)
    return torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.Tanh(),
                               torch.nn.Linear(32, 2)).to(device="cuda", dtype=dtype)


def solve_and_grad(net, y0, t, **kwargs):
    ys = ct.odeint(lambda t, y: net(y ** 3), y0, t, adjoint_params=tuple(net.parameters()),
                   **kwargs)
    grads = torch.autograd.grad(ys[-1].square().sum(), [y0] + list(net.parameters()))
    return ys.detach(), grads


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("method", ["rk4", "dopri5"])
def test_device_gradients_equal_the_keep_everything_baseline(dtype, method):
    net = field(dtype)
    y0 = (0.5 * torch.randn(64, 2, device="cuda", dtype=dtype)).requires_grad_(True)
    t = torch.linspace(0, 1, 5, device="cuda", dtype=dtype)
    fixed = dict(steps_per_interval=50) if method == "rk4" else dict(rtol=1e-6, atol=1e-8)
    ys_all, g_all = solve_and_grad(net, y0, t, method=method, checkpoints="all", **fixed)
    stats = {}
    ys, grads = solve_and_grad(net, y0, t, method=method, checkpoints=6, stats=stats, **fixed)
    assert ys.is_cuda and all(g.is_cuda for g in grads)
    assert torch.equal(ys, ys_all)
    assert all(torch.equal(g, h) for g, h in zip(grads, g_all))
    if dtype == torch.float64:
        reference = ct.solve_taped(lambda t, y: net(y ** 3), y0, t, method=method,
                                   recorded=stats if method == "dopri5" else None,
                                   **({} if method == "dopri5" else fixed))
        expected = torch.autograd.grad(reference[-1].square().sum(), [y0] + list(net.parameters()))
        err = max(float((g - h).norm() / h.norm()) for g, h in zip(grads, expected))
        assert err <= 1e-12


def test_checkpoints_are_device_tensors_and_offload_is_pinned(monkeypatch):
    made = []
    original = _storage.SlotBuffer.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(_storage.SlotBuffer, "__init__", spy)
    net = field(torch.float32)
    y0 = torch.randn(128, 2, device="cuda").requires_grad_(True)
    t = torch.tensor([0.0, 1.0], device="cuda")
    _, g_all = solve_and_grad(net, y0, t, method="rk4", steps_per_interval=200, checkpoints="all")
    _, grads = solve_and_grad(net, y0, t, method="rk4", steps_per_interval=200, checkpoints=4,
                              offload=8)
    assert all(torch.equal(g, h) for g, h in zip(grads, g_all))
    device_levels = [b for b in made if not b.host]
    host_levels = [b for b in made if b.host]
    assert device_levels and all(b.data.is_cuda for b in device_levels)
    assert host_levels and all(b.data.is_pinned() and not b.data.is_cuda for b in host_levels)


def test_device_memory_is_bounded_by_the_checkpoints():
    net = field(torch.float32)
    y0 = torch.randn(4096, 2, device="cuda").requires_grad_(True)
    t = torch.tensor([0.0, 1.0], device="cuda")
    state = y0.numel() * y0.element_size()
    peaks = {}
    for steps in (200, 2000):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        solve_and_grad(net, y0, t, method="euler", steps_per_interval=steps, checkpoints=10)
        torch.cuda.synchronize()
        peaks[steps] = torch.cuda.max_memory_allocated() - base
    # Ten times the steps, the same peak (checkpoints, stages and one taped step), within a state.
    assert abs(peaks[2000] - peaks[200]) <= 2 * state, peaks
