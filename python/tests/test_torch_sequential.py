"""cairn.torch.checkpoint_sequential: gradients equal to plain autograd's (bitwise, on the CPU,
for float64 and float32) at several budgets for chains of unequal widths; the executor's live
bytes equal check_plan's prediction where the profile is exact, and stay below it otherwise;
the plan is made once per input shape; bad arguments are refused with what is allowed."""
import math

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed (Debian: python3-torch)")
import cairn  # noqa: E402
import cairn.torch  # noqa: E402
from torch_graph_models import (exact_mlp, gradients, max_relative_error, mlp,  # noqa: E402
                                resnet_chain)

WIDTHS = [6, 24, 3, 40, 8, 16, 5]


def compare(model, x, weights, **budget):
    plain = gradients(model, x, model, weights)
    planned = gradients(model, x,
                        lambda v: cairn.torch.checkpoint_sequential(model, v, **budget), weights)
    return plain, planned


@pytest.mark.parametrize("make", [mlp, resnet_chain], ids=["mlp", "resnet"])
@pytest.mark.parametrize("budget", [{"slots": 0}, {"slots": 1}, {"slots": 3}, {"slots": 100}])
def test_float64_gradients_are_plain_autograds(make, budget):
    torch.manual_seed(1)
    model = make(WIDTHS, torch.float64)
    x = torch.randn(4, WIDTHS[0], dtype=torch.float64)
    weights = torch.randn(4, WIDTHS[-1], dtype=torch.float64)
    plain, planned = compare(model, x, weights, **budget)
    assert max_relative_error(planned, plain) <= 1e-12
    # The same operations on the same values in the same order: bitwise equal on the CPU.
    assert all(torch.equal(a, b) for a, b in zip(planned, plain))


def test_float32_gradients_are_plain_autograds_bitwise_on_the_cpu():
    # Recomputation repeats each layer's forward on identical inputs with the same kernels, and
    # each backward sees the same tensors as plain autograd's, so nothing may differ. (On a GPU
    # whose kernels are not deterministic the tolerance is that of two plain autograd runs.)
    torch.manual_seed(2)
    model = resnet_chain(WIDTHS, torch.float32)
    x = torch.randn(4, WIDTHS[0])
    weights = torch.randn(4, WIDTHS[-1])
    plain, planned = compare(model, x, weights, slots=1)
    assert all(torch.equal(a, b) for a, b in zip(planned, plain))


def test_budgets_and_the_plan_cache():
    torch.manual_seed(3)
    model = mlp(WIDTHS, torch.float64)
    x = torch.randn(4, WIDTHS[0], dtype=torch.float64)
    least = cairn.torch.plan_sequential(model, x, slots=0)
    assert least.least_bytes == least.budget_bytes == cairn.chain_min_budget(least.graph)
    assert least.predicted_peak_bytes <= least.budget_bytes
    roomy = cairn.torch.plan_sequential(model, x, slots=3)
    assert roomy.budget_bytes == least.budget_bytes + 3 * max(p.output_bytes
                                                              for p in roomy.profile)
    assert roomy.plan.cost <= least.plan.cost
    exact = cairn.torch.plan_sequential(model, x, memory=least.budget_bytes)
    assert exact.predicted_peak_bytes <= least.budget_bytes
    # Cached per (functions, shape, dtype, device, budget): a training loop plans once.
    assert cairn.torch.plan_sequential(model, x, slots=0) is least
    assert cairn.torch.plan_sequential(model, x[:2], slots=0) is not least
    for p in least.profile:
        assert p.output_bytes > 0 and p.forward_seconds >= 0 and p.backward_seconds >= 0
    # tanh saves its output: the tape of Linear + tanh keeps the output, counted once as it.
    assert all(p.tape_holds_output and p.tape_bytes == 0 for p in least.profile)
    assert all(least.graph.node(v).tape_holds_output for v in range(len(least.graph)))


@pytest.mark.parametrize("slots", [0, 1, 2, 50])
def test_executor_peak_is_check_plans_prediction_when_the_profile_is_exact(slots):
    torch.manual_seed(4)
    model = exact_mlp(WIDTHS, torch.float64)
    x = torch.randn(3, WIDTHS[0], dtype=torch.float64, requires_grad=True)
    plan = cairn.torch.plan_sequential(model, x, slots=slots)
    # tanh's output is the tape, and nothing saves the Linear's output.
    assert [p.tape_bytes for p in plan.profile] == [8 * 3 * w for w in WIDTHS[:-1]]
    y = cairn.torch.checkpoint_sequential(model, x, slots=slots, debug_memory=True)
    y.sum().backward()
    costs = cairn.check_plan(plan.graph, plan.plan.actions)
    assert costs.legal and costs.peak_bytes == plan.predicted_peak_bytes
    assert plan.measured_peak_bytes == costs.peak_bytes


def test_workspaces_are_profiled_and_counted():
    # A convolution's backward computes its weight and bias gradients as temporaries (a training
    # step adds them into .grad and frees them): its backward scratch is at least their bytes.
    # Where the profiler has no memory events (or on an old PyTorch) the workspaces are 0.
    torch.manual_seed(6)
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 8, 3, padding=1), torch.nn.Tanh(),
                                torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.Tanh()).double()
    x = torch.randn(2, 2, 8, 8, dtype=torch.float64, requires_grad=True)
    plan = cairn.torch.plan_sequential(model, x, slots=0)
    convs = [p for p in plan.profile if "Conv2d" in p.name]
    if all(p.backward_workspace_bytes == 0 for p in plan.profile):
        pytest.skip("no allocator or profiler memory events in this PyTorch")
    for p, conv in zip(convs, (model[0], model[2])):
        grads = sum(q.numel() * q.element_size() for q in conv.parameters())
        assert p.backward_workspace_bytes >= grads, p
    # The graph holds them rounded up to the tensors' common unit (less than a unit more).
    graph = plan.graph
    unit = 0
    for p in plan.profile:
        unit = math.gcd(math.gcd(unit, p.output_bytes), p.tape_bytes)
    for v, p in enumerate(plan.profile):
        for measured, planned in ((p.compute_workspace_bytes,
                                   graph.node(v).compute_workspace_bytes),
                                  (p.record_workspace_bytes,
                                   graph.node(v).record_workspace_bytes),
                                  (p.backward_workspace_bytes,
                                   graph.node(v).backward_workspace_bytes)):
            assert planned % unit == 0 and 0 <= planned - measured < unit
    # The executor's count adds the profiled scratch of the node it runs: check_plan's peak.
    y = cairn.torch.checkpoint_sequential(model, x, slots=0, debug_memory=True)
    y.sum().backward()
    assert 0 < plan.measured_peak_bytes <= plan.predicted_peak_bytes


@pytest.mark.parametrize("slots", [0, 2, 50])
def test_executor_peak_is_the_prediction_when_tapes_keep_outputs(slots):
    # Linear + tanh: the tape (tanh's output) is the output's storage; the profile says so
    # (tape_holds_output), the model counts that storage once, held until the layer's backward,
    # and the executor's count of distinct storages is the prediction.
    torch.manual_seed(5)
    model = mlp(WIDTHS, torch.float64)
    x = torch.randn(3, WIDTHS[0], dtype=torch.float64)
    plan = cairn.torch.plan_sequential(model, x, slots=slots)
    y = cairn.torch.checkpoint_sequential(model, x, slots=slots, debug_memory=True)
    y.sum().backward()
    assert plan.measured_peak_bytes == plan.predicted_peak_bytes


def test_without_grad_it_is_the_plain_forward():
    model = mlp(WIDTHS, torch.float64)
    x = torch.randn(2, WIDTHS[0], dtype=torch.float64)
    with torch.no_grad():
        assert torch.equal(cairn.torch.checkpoint_sequential(model, x, slots=0), model(x))


def test_a_list_of_callables_and_dropout_replayed():
    torch.manual_seed(6)
    layers = [torch.nn.Linear(5, 9).double(), torch.nn.Dropout(0.5), torch.tanh,
              torch.nn.Linear(9, 4).double()]
    x = torch.randn(3, 5, dtype=torch.float64)
    w = torch.randn(3, 4, dtype=torch.float64)
    model = torch.nn.Sequential(*[m for m in layers if isinstance(m, torch.nn.Module)])

    def plain(v):
        for f in layers:
            v = f(v)
        return v

    torch.manual_seed(7)
    expected = gradients(model, x, plain, w)
    cairn.torch.plan_sequential(layers, x, slots=0)  # profiling draws random numbers too
    torch.manual_seed(7)
    got = gradients(model, x, lambda v: cairn.torch.checkpoint_sequential(layers, v, slots=0), w)
    assert all(torch.equal(a, b) for a, b in zip(got, expected))
    # Only the layer that draws random numbers keeps a generator state for its replays.
    plan = cairn.torch.plan_sequential(layers, x, slots=0)
    with torch.no_grad():
        run, _ = plan.executor.forward(x)
    kept = [v for v, state in enumerate(run.rng) if state is not None and len(state) == 2]
    assert kept == [1]


def test_layers_that_modify_their_input_are_refused():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(inplace=True),
                                torch.nn.Linear(4, 2)).double()
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"node 1 \('1:ReLU'\) failed when profiled: .*in-place"
                                           ".*layers must leave their inputs unchanged"):
        cairn.torch.checkpoint_sequential(model, x, slots=0).sum().backward()
    # With a profile of one's own, the executor's check says it.
    plan = cairn.torch.plan_sequential(model, x, slots=0, profile=[
        cairn.torch.LayerProfile(str(i), 1.0, 1.0, 64, 64) for i in range(3)])
    assert plan.plan.method == "chain_dp"
    with pytest.raises(RuntimeError, match=r"node 1 \('1:ReLU'\) modified its input in place"):
        with torch.no_grad():
            plan.executor.forward(x)


def test_a_budget_that_holds_plain_autograds_peak_runs_plain_autograd():
    # Plain autograd frees the output's gradient at the last layer's backward; Cairn's one
    # autograd function keeps it. Where the budget holds plain autograd's own peak, the plan is
    # plain autograd: store-all's cost, that peak, no executor (the debug count still replays it).
    torch.manual_seed(7)
    model = mlp(WIDTHS, torch.float64)
    x = torch.randn(3, WIDTHS[0], dtype=torch.float64)
    weights = torch.randn(3, WIDTHS[-1], dtype=torch.float64)
    graph = cairn.torch.plan_sequential(model, x, slots=0).graph
    assert graph.output_gradient_held
    graph.output_gradient_held = False
    plain_peak = cairn.plan_store_all(graph).peak_bytes
    plain = cairn.torch.plan_sequential(model, x, memory=plain_peak)
    assert plain.runs_plain and plain.plan.method == "store_all"
    assert plain.predicted_peak_bytes == plain_peak and not plain.graph.output_gradient_held
    assert plain.plan.cost == cairn.plan_store_all(graph).cost
    below = cairn.torch.plan_sequential(model, x, memory=plain_peak - 1)
    assert not below.runs_plain and below.plan.method == "chain_dp"
    assert below.predicted_peak_bytes <= plain_peak - 1
    reference, planned = compare(model, x, weights, memory=plain_peak)
    assert all(torch.equal(a, b) for a, b in zip(planned, reference))
    y = cairn.torch.checkpoint_sequential(model, x, memory=plain_peak, debug_memory=True)
    y.sum().backward()
    assert plain.measured_peak_bytes == plain.predicted_peak_bytes


def test_backward_twice_is_refused():
    model = mlp(WIDTHS, torch.float64)
    x = torch.randn(2, WIDTHS[0], dtype=torch.float64, requires_grad=True)
    y = cairn.torch.checkpoint_sequential(model, x, slots=0).sum()
    y.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="already run backward"):
        y.backward()


@pytest.mark.parametrize("kwargs, message", [
    ({}, "give exactly one of memory= .a budget in bytes. and slots="),
    ({"memory": 10 ** 6, "slots": 1}, "give memory= .bytes. or slots= .checkpoints., not both"),
    ({"slots": -1}, "slots must be an integer >= 0, not -1"),
    ({"memory": 1.5e6}, "memory must be an integer >= 0"),
    ({"memory": 100}, "memory=100 bytes is below the least budget of this chain and input, "
                      "[0-9]+ bytes"),
])
def test_bad_budgets_are_refused(kwargs, message):
    model = mlp([3, 4, 2], torch.float64)
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(ValueError, match="cairn.torch.checkpoint_sequential: " + message):
        cairn.torch.checkpoint_sequential(model, x, **kwargs)


def test_bad_functions_are_refused():
    x = torch.randn(2, 3, requires_grad=True)
    with pytest.raises(ValueError, match="functions is empty"):
        cairn.torch.checkpoint_sequential([], x, slots=0)
    with pytest.raises(ValueError, match=r"functions\[1\] \(int\) is not callable"):
        cairn.torch.checkpoint_sequential([torch.tanh, 3], x, slots=0)
    with pytest.raises(ValueError, match="must be a torch.nn.Sequential or a list"):
        cairn.torch.checkpoint_sequential(torch.tanh, x, slots=0)
    with pytest.raises(ValueError, match="input must be one tensor"):
        cairn.torch.checkpoint_sequential([torch.tanh], (x,), slots=0)


def test_an_integer_input_and_a_first_layer_with_parameters():
    torch.manual_seed(8)
    model = torch.nn.Sequential(torch.nn.Embedding(10, 6), torch.nn.Flatten(),
                                torch.nn.Linear(18, 4), torch.nn.Tanh()).double()
    tokens = torch.randint(0, 10, (5, 3))
    w = torch.randn(5, 4, dtype=torch.float64)
    (model(tokens) * w).sum().backward()
    plain = [p.grad.clone() for p in model.parameters()]
    model.zero_grad(set_to_none=True)
    (cairn.torch.checkpoint_sequential(model, tokens, slots=0) * w).sum().backward()
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), plain))


def test_without_saved_tensor_hooks_the_tape_is_the_output(monkeypatch):
    # PyTorch before 1.10 has no saved_tensors_hooks: the profile falls back to output sizes.
    monkeypatch.delattr(torch.autograd.graph, "saved_tensors_hooks")
    model = exact_mlp([4, 9, 3], torch.float64)
    x = torch.randn(2, 4, dtype=torch.float64)
    profile = cairn.torch.plan_sequential(model, x, memory=10 ** 6).profile
    assert [(p.output_bytes, p.tape_bytes) for p in profile] == [(144, 144), (48, 48)]


@pytest.mark.parametrize("budget", [{"slots": 0}, {"slots": 2}, {"slots": 100}])
def test_runs_of_recorded_layers_go_backward_in_one_call(budget, monkeypatch):
    # The executor records a layer on its predecessor's taped output where that feeds only it
    # (_graph_exec.py's docstring): fewer autograd calls than layers run backward, the gradients
    # still bitwise plain autograd's; the debug executor keeps one call per layer. (Without
    # autograd's bookkeeping in the profile: these layers' tensors are a few hundred bytes, their
    # bookkeeping several KiB, and at the least budget that records one layer at a time.)
    monkeypatch.setattr(cairn.torch._profile, "AUTOGRAD_NODE_BYTES", 0)
    torch.manual_seed(9)
    model = mlp(WIDTHS * 3, torch.float64)
    x = torch.randn(4, WIDTHS[0], dtype=torch.float64)
    weights = torch.randn(4, WIDTHS[-1], dtype=torch.float64)
    plan = cairn.torch.plan_sequential(model, x, **budget)
    backwards = sum(1 for kind, _ in plan.plan.action_array().tolist() if kind == 3)
    calls = []
    engine = torch.autograd.backward

    def counted(*args, **kwargs):
        calls.append(1)
        return engine(*args, **kwargs)

    plain, _ = compare(model, x, weights, **budget)
    monkeypatch.setattr(torch.autograd, "backward", counted)
    planned = gradients(model, x, lambda v: cairn.torch.checkpoint_sequential(
        model, v, **budget), weights)
    fast = len(calls)
    assert all(torch.equal(a, b) for a, b in zip(planned, plain))
    calls.clear()
    debug = gradients(model, x, lambda v: cairn.torch.checkpoint_sequential(
        model, v, debug_memory=True, **budget), weights)
    assert all(torch.equal(a, b) for a, b in zip(debug, plain))
    # the loss's own backward call is counted in both
    assert len(calls) == backwards + 1
    assert fast < len(calls)


def test_profiling_leaves_buffers_and_random_state_as_they_were():
    # Profiling runs every layer 1 + PROFILE_PASSES times; a plan must not change what the model
    # is or what the next random draw gives (BatchNorm statistics, Dropout masks).
    torch.manual_seed(10)
    model = torch.nn.Sequential(torch.nn.Linear(5, 8).double(),
                                torch.nn.BatchNorm1d(8).double(), torch.nn.Dropout(0.5),
                                torch.nn.Tanh(), torch.nn.Linear(8, 3).double())
    x = torch.randn(6, 5, dtype=torch.float64)
    before = [b.clone() for b in model.buffers()]
    state = torch.get_rng_state()
    plan = cairn.torch.plan_sequential(model, x, slots=1)
    assert len(plan.profile) == 5
    assert all(torch.equal(a, b) for a, b in zip(model.buffers(), before))
    assert torch.equal(torch.get_rng_state(), state)
