"""Autograd's own objects in cairn.torch's model: on the CPU each profiled node carries
bookkeeping_bytes = its autograd nodes x AUTOGRAD_NODE_BYTES; the graph's tapes carry it in whole
memory units, spread so that any run of consecutive nodes is within one unit of the total; the
executor's debug count includes it for every tape held, and so still equals the prediction."""
import dataclasses
import random

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed (Debian: python3-torch)")
import cairn  # noqa: E402
import cairn.torch  # noqa: E402
from cairn.torch import _profile  # noqa: E402
from torch_graph_models import exact_mlp, gradients  # noqa: E402

WIDTHS = [6, 24, 3, 40, 8, 16, 5]


def autograd_nodes(layer, x):
    """The graph nodes one record of `layer` on a detached leaf makes, counted here apart from
    the profiler: every node reachable from the output's grad_fn."""
    out = layer(x.detach().requires_grad_(True))
    seen, stack = set(), [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None and node not in seen:
            seen.add(node)
            stack.extend(n for n, _ in node.next_functions)
    return len(seen), out.detach()


def test_the_profile_counts_each_layers_autograd_nodes_on_the_cpu():
    torch.manual_seed(1)
    model = exact_mlp(WIDTHS, torch.float64)
    x = torch.randn(4, WIDTHS[0], dtype=torch.float64)
    profile = cairn.torch.plan_sequential(model, x, memory=10 ** 9).profile
    h, expected = x, []
    for layer in model:
        n, h = autograd_nodes(layer, h)
        expected.append(n * _profile.AUTOGRAD_NODE_BYTES)
    # tanh, addmm, the weight's transpose, and the AccumulateGrad of weight, bias and input
    assert expected[0] == 6 * _profile.AUTOGRAD_NODE_BYTES
    assert [p.bookkeeping_bytes for p in profile] == expected


@pytest.mark.parametrize("seed", range(20))
def test_bookkeeping_in_whole_units_stays_within_one_unit_over_every_run(seed):
    rng = random.Random(seed)
    unit = rng.choice([1, 8, 48, 1000, 16384])
    n = rng.randint(1, 40)
    profile = [_profile.LayerProfile(f"{v}", 0.0, 0.0, unit, 0,
                                     bookkeeping_bytes=rng.choice([0, rng.randint(0, 3 * unit)]))
               for v in range(n)]
    units = _profile.bookkeeping_units(profile, unit)
    assert all(u >= 0 and u % unit == 0 for u in units)
    for i in range(n):
        for j in range(i, n):
            profiled = sum(p.bookkeeping_bytes for p in profile[i:j + 1])
            assert abs(sum(units[i:j + 1]) - profiled) <= unit


def test_graph_tapes_carry_it_and_the_debug_count_still_equals_the_prediction(monkeypatch):
    torch.manual_seed(2)
    model = exact_mlp(WIDTHS, torch.float64)
    x = torch.randn(4, WIDTHS[0], dtype=torch.float64)
    weights = torch.randn(4, WIDTHS[-1], dtype=torch.float64)
    counted = cairn.torch.plan_sequential(model, x, slots=1)
    profile = counted.profile
    extra = _profile.bookkeeping_units(profile, _profile.tensor_unit(profile))
    assert sum(extra) > 0
    assert [counted.graph.node(v).tape_bytes for v in range(len(profile))] == \
        [p.tape_bytes + e for p, e in zip(profile, extra)]
    # Without it (the tensors alone) the least budget is lower.
    bare = [dataclasses.replace(p, bookkeeping_bytes=0) for p in profile]
    uncounted = cairn.torch.plan_sequential(model, x, slots=1, profile=bare)
    assert [uncounted.graph.node(v).tape_bytes for v in range(len(bare))] == \
        [p.tape_bytes for p in bare]
    assert uncounted.least_bytes < counted.least_bytes
    for plan_profile, plan in ((profile, counted), (bare, uncounted)):
        gradients(model, x, lambda v: cairn.torch.checkpoint_sequential(
            model, v, slots=1, profile=plan_profile, debug_memory=True), weights)
        again = cairn.torch.plan_sequential(model, x, slots=1, profile=plan_profile)
        assert again.measured_peak_bytes == again.predicted_peak_bytes


def test_a_gpu_profile_has_none(monkeypatch):
    # Device budgets count device memory; the bookkeeping is host memory.
    monkeypatch.setattr(_profile, "_autograd_nodes", lambda out: 1 / 0)
    torch.manual_seed(3)
    model = exact_mlp(WIDTHS[:3], torch.float64)
    x = torch.randn(2, WIDTHS[0], dtype=torch.float64)
    if not torch.cuda.is_available():
        with pytest.raises(ZeroDivisionError):  # counted on the CPU
            cairn.torch.plan_sequential(model, x, memory=10 ** 9)
        pytest.skip("no CUDA device: the GPU side is not run here")
    profile = cairn.torch.plan_sequential(model.cuda(), x.cuda(), memory=10 ** 9).profile
    assert all(p.bookkeeping_bytes == 0 for p in profile)
