"""cairn.torch.GraphModule: a U-Net declared as blocks, and read by torch.fx, trains with the
gradients of plain autograd (input and every parameter, bitwise on the CPU) under every planner;
the executor's live bytes equal check_plan's prediction on a DAG whose profile is exact; bad
declarations are refused with what is allowed."""
import warnings

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed (Debian: python3-torch)")
import cairn  # noqa: E402
import cairn.torch  # noqa: E402
from torch_graph_models import UNet, gradients, max_relative_error, unet_blocks  # noqa: E402

nn = torch.nn


def unet_case(dtype=torch.float64):
    torch.manual_seed(11)
    blocks = unet_blocks(dtype=dtype)
    x = torch.randn(2, 2, 8, 8, dtype=dtype)
    w = torch.randn(2, 1, 8, 8, dtype=dtype)
    return blocks, x, w


def store_all_peak(blocks, x):
    return cairn.torch.GraphModule(blocks, planner="store_all").plan_for(x).predicted_peak_bytes


def budget_between(blocks, x, fraction):
    """The least budget of any plan (bisection with plan_exhaustive) plus `fraction` of the way
    to store-all's peak."""
    graph = cairn.torch.GraphModule(blocks, planner="store_all").plan_for(x).graph
    lo, hi = 0, cairn.plan_store_all(graph).peak_bytes
    top = hi
    while lo < hi:
        mid = (lo + hi) // 2
        try:
            cairn.plan_exhaustive(graph, mid)
            hi = mid
        except ValueError:
            lo = mid + 1
    return lo + int(fraction * (top - lo))


@pytest.mark.parametrize("planner, fraction", [("store_all", None), ("structure_aware", None),
                                               ("segments", None), ("exhaustive", 0.0),
                                               ("exhaustive", 0.5), ("auto", 1.0)])
def test_unet_gradients_are_plain_autograds(planner, fraction):
    blocks, x, w = unet_case()
    plain_net = cairn.torch.GraphModule(blocks, planner="store_all")
    memory = None if fraction is None else budget_between(blocks, x, fraction)
    net = cairn.torch.GraphModule(blocks, memory=memory, planner=planner)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "built without CBC" where it is
        planned = gradients(net, x, net, w)
    with torch.no_grad():
        assert torch.equal(plain_net(x), net(x))
    plain = gradients(plain_net, x, lambda v: plain_net.program.run_plain(v), w)
    assert len(planned) == 1 + len(list(net.parameters())) == 1 + 2 * len(blocks)
    assert max_relative_error(planned, plain) <= 1e-12
    assert all(torch.equal(a, b) for a, b in zip(planned, plain))
    if memory is not None:
        assert net.plan_for(x).predicted_peak_bytes <= memory


def test_auto_without_cbc_beyond_exhaustive_sizes_warns_and_fits(monkeypatch):
    # As where cairn has no CBC and the graph is too large for plan_exhaustive: the cheapest of
    # the baselines that fits, with a warning; an error naming the least when none fits.
    import cairn.torch._plan as plans
    monkeypatch.setattr(cairn, "HAS_MILP", False)
    monkeypatch.setattr(plans, "_EXHAUSTIVE_NODES", 0)
    blocks, x, w = unet_case()
    # A byte below plain autograd's own peak (from there on the plan is plain autograd).
    graph = cairn.torch.GraphModule(blocks, planner="store_all").plan_for(x).graph
    graph.output_gradient_held = False
    memory = cairn.plan_store_all(graph).peak_bytes - 1
    net = cairn.torch.GraphModule(blocks, memory=memory)
    with pytest.warns(UserWarning, match="built without CBC, so this graph's plan is the "
                                         "cheapest baseline that fits"):
        plan = net.plan_for(x)
    assert plan.predicted_peak_bytes <= memory
    assert plan.plan.method in ("store_all", "structure_aware", "segments")
    with pytest.raises(ValueError, match="memory=10 bytes is below every plan this package can "
                                         "make for this graph without CBC .the least is [0-9]+"):
        cairn.torch.GraphModule(blocks, memory=10).plan_for(x)


def test_fx_unet_gradients_are_plain_autograds():
    torch.manual_seed(12)
    model = UNet().double()
    x = torch.randn(2, 2, 8, 8, dtype=torch.float64)
    w = torch.randn(2, 1, 8, 8, dtype=torch.float64)
    net = cairn.torch.GraphModule.from_fx(model, x, planner="structure_aware")
    names = list(net.program.names)
    assert len(names) >= 6 and not net.plan_for(x).graph.is_chain()
    plain = gradients(model, x, model, w)
    planned = gradients(model, x, net, w)
    assert list(net.parameters()) == list(model.parameters())
    assert all(torch.equal(a, b) for a, b in zip(planned, plain))


class TwoInputs(nn.Module):
    """Linear(tanh(a) + tanh(b)): its tape (two tanh outputs and their sum) are storages of
    their own and nothing saves its output: the profile is exact."""

    def __init__(self, n: int, m: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n, m)

    def forward(self, a, b=None):
        s = torch.tanh(a) if b is None else torch.tanh(a) + torch.tanh(b)
        return self.linear(s)


@pytest.mark.parametrize("fraction", [0.0, 0.3, 1.0])
def test_executor_peak_is_check_plans_prediction_on_a_dag(fraction):
    torch.manual_seed(13)
    blocks = [("a", TwoInputs(4, 12), []), ("b", TwoInputs(12, 6), ["a"]),
              ("c", TwoInputs(6, 12), ["b"]), ("d", TwoInputs(12, 3), ["c", "a"]),
              ("e", TwoInputs(3, 5), ["d"])]
    blocks = [(n, m.double(), i) for n, m, i in blocks]
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    memory = budget_between(blocks, x, fraction)
    net = cairn.torch.GraphModule(blocks, memory=memory, planner="exhaustive", debug_memory=True)
    plan = net.plan_for(x)
    net(x).sum().backward()
    costs = cairn.check_plan(plan.graph, plan.plan.action_array())
    assert costs.legal and costs.peak_bytes == plan.predicted_peak_bytes <= memory
    assert plan.measured_peak_bytes == plan.predicted_peak_bytes


def test_without_grad_it_is_the_plain_forward():
    blocks, x, _ = unet_case()
    net = cairn.torch.GraphModule(blocks, planner="store_all")
    with torch.no_grad():
        a = net(x)
    e1 = blocks[0][1](x)
    e2 = blocks[1][1](e1)
    b = blocks[5][1](blocks[4][1](blocks[3][1](blocks[2][1](e2), e2), e1))
    assert torch.equal(a, b)


@pytest.mark.parametrize("blocks, message", [
    ([], "give at least one block"),
    ([("a", nn.Tanh())], r"blocks\[0\] must be \(name, module, inputs\)"),
    ([("a.b", nn.Tanh(), [])],
     r"blocks\[0\]'s name must be a non-empty string without '.', other than 'input'; got 'a.b'"),
    ([("input", nn.Tanh(), [])], ".*other than 'input'; got 'input'"),
    ([("a", nn.Tanh(), []), ("a", nn.Tanh(), ["a"])], "two blocks are named 'a'"),
    ([("a", nn.Tanh(), ["b"])], "block 'a' reads 'b', which is not an earlier block"),
    ([("a", nn.Tanh(), "input")],
     "block 'a''s inputs must be a list of names, not the string 'input'"),
    ([("a", nn.Tanh(), []), ("b", nn.Tanh(), [])],
     r"the output \(block 'b'\) does not depend on block\(s\) 'a'"),
    ([("a", 3, [])], "block 'a' is not callable"),
])
def test_bad_blocks_are_refused(blocks, message):
    with pytest.raises(ValueError, match="cairn.torch.GraphModule: " + message):
        cairn.torch.GraphModule(blocks)


def test_bad_options_are_refused():
    blocks, x, _ = unet_case()
    with pytest.raises(ValueError, match="planner must be one of auto, chain, milp"):
        cairn.torch.GraphModule(blocks, planner="best").plan_for(x)
    with pytest.raises(ValueError, match="slots= is defined for chains only"):
        cairn.torch.GraphModule(blocks, slots=1).plan_for(x)
    with pytest.raises(ValueError, match="planner='exhaustive' needs memory="):
        cairn.torch.GraphModule(blocks, planner="exhaustive").plan_for(x)
    with pytest.raises(ValueError, match="memory must be an integer >= 0"):
        cairn.torch.GraphModule(blocks, memory=-5)
    with pytest.raises(ValueError, match="memory=10 bytes is too small for this graph and input "
                       r"\(plan_(milp|exhaustive): .* [0-9]+ bytes"):
        cairn.torch.GraphModule(blocks, memory=10).plan_for(x)
    if not cairn.HAS_MILP:
        with pytest.raises(RuntimeError, match="built without CBC"):
            cairn.torch.GraphModule(blocks, memory=10 ** 6, planner="milp").plan_for(x)


def test_a_declared_chain_is_planned_by_the_chain_planner():
    torch.manual_seed(14)
    blocks = [("a", nn.Linear(3, 7), []), ("b", nn.Tanh(), ["a"]), ("c", nn.Linear(7, 2), ["b"])]
    blocks = [(n, m.double(), i) for n, m, i in blocks]
    x = torch.randn(4, 3, dtype=torch.float64)
    net = cairn.torch.GraphModule(blocks, slots=0)
    plan = net.plan_for(x)
    assert plan.graph.is_chain() and plan.budget_bytes == plan.least_bytes
    w = torch.randn(4, 2, dtype=torch.float64)
    plain = gradients(net, x, lambda v: net.program.run_plain(v), w)
    assert all(torch.equal(a, b) for a, b in zip(gradients(net, x, net, w), plain))


class Scaled(nn.Module):
    """A residual net with a parameter read directly (an fx get_attr) and functional ops."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(5, 7), nn.Linear(7, 7)
        self.scale = nn.Parameter(torch.full((7,), 0.5))
        self.out = nn.Linear(7, 2)

    def forward(self, x):
        h = torch.relu(self.a(x))
        h = h + self.scale * torch.tanh(self.b(h))
        return self.out(h).flatten()


def test_fx_groups_and_get_attr():
    torch.manual_seed(15)
    model = Scaled().double()
    x = torch.randn(3, 5, dtype=torch.float64)
    net = cairn.torch.GraphModule.from_fx(model, planner="store_all")
    # a, relu | b, tanh, scale * . | h + . | out, flatten: a node with parameters, or one
    # reading two values or a shared one, starts a block; the rest (the get_attr of scale not
    # counted as a value) join their input's.
    assert net.program.names == ["a", "b", "add", "out"]
    assert net.program.sources == [[-1], [0], [0, 1], [2]]
    w = torch.randn(6, dtype=torch.float64)
    plain = gradients(model, x, model, w)
    assert all(torch.equal(a, b) for a, b in zip(gradients(model, x, net, w), plain))
    with pytest.raises(ValueError, match="exactly one input, it takes 2"):
        cairn.torch.GraphModule.from_fx(TwoInputs(3, 3))
