"""cairn.Driver: Python callbacks through any schedule, exact gradients, exact call counts."""
import numpy as np
import pytest

import cairn

N = 5
RNG = np.random.default_rng(18)
A = RNG.standard_normal((N, N)) / np.sqrt(N)


class Model:
    """x_{i+1} = A x_i with its exact adjoint lambda_i = A^T lambda_{i+1}; counts the calls."""

    def __init__(self):
        self.steps = []
        self.adjoints = []

    def step(self, i, x):
        self.steps.append(i)
        x[:] = A @ x

    def adjoint_step(self, i, x, lam):
        self.adjoints.append(i)
        assert not x.flags.writeable
        lam[:] = A.T @ lam


def direct_gradient(steps, lam_t):
    lam = lam_t.copy()
    for _ in range(steps):
        lam[:] = A.T @ lam
    return lam


def direct_final(steps, x0):
    x = x0.copy()
    for _ in range(steps):
        x[:] = A @ x
    return x


def schedules(steps):
    return [
        cairn.Revolve(steps, 3),
        cairn.StoreAll(steps),
        cairn.Uniform(steps, 4),
        cairn.simulate_online(steps, 3),
        cairn.MultilevelRevolve(steps, [2, (cairn.UNLIMITED, 1.0, 1.0)]),
        cairn.HeterogeneousRevolve(np.ones(steps), np.zeros(steps), np.full(steps, 8), 24),
    ]


X0 = RNG.standard_normal(N)
LAM_T = RNG.standard_normal(N)


@pytest.mark.parametrize("steps", [1, 2, 9, 40])
def test_gradient_is_bitwise_the_direct_one_for_every_schedule(steps):
    expected = direct_gradient(steps, LAM_T)
    for schedule in schedules(steps):
        model = Model()
        driver = cairn.Driver(schedule, model.step, model.adjoint_step)
        x_t = driver.forward(X0)
        assert np.array_equal(x_t, direct_final(steps, X0))
        lam0 = driver.backward(LAM_T)
        assert np.array_equal(lam0, expected), schedule.name
        assert model.adjoints == list(range(steps - 1, -1, -1))
        stats = driver.statistics
        assert stats["adjoint_calls"] == steps and stats["steps"] == steps
        assert stats["step_calls"] == len(model.steps)
        checked = cairn.check(schedule.actions(), steps, schedule.slots_per_level)
        assert stats["step_calls"] == checked.costs.forward_steps + 1
        assert stats["stores"] == checked.costs.stores
        assert stats["restores"] == checked.costs.restores


def test_revolve_step_calls_are_forward_cost_plus_one():
    for steps, slots in ((100, 3), (57, 5), (10, 1)):
        model = Model()
        driver = cairn.Driver(cairn.Revolve(steps, slots), model.step, model.adjoint_step)
        lam0 = driver.run(X0, lambda x_t: LAM_T.copy())
        assert len(model.steps) == cairn.forward_cost(steps, slots) + 1
        assert len(model.adjoints) == steps
        assert np.array_equal(lam0, direct_gradient(steps, LAM_T))


def test_inputs_are_not_changed_and_results_are_new_arrays():
    x0, lam_t = X0.copy(), LAM_T.copy()
    model = Model()
    driver = cairn.Driver(cairn.Revolve(20, 2), model.step, model.adjoint_step)
    x_t = driver.forward(x0)
    lam0 = driver.backward(lam_t)
    assert np.array_equal(x0, X0) and np.array_equal(lam_t, LAM_T)
    assert not np.shares_memory(x_t, x0) and not np.shares_memory(lam0, lam_t)
    again = driver.forward(x0)
    assert np.array_equal(again, x_t) and not np.shares_memory(again, x_t)


def test_callbacks_may_return_new_arrays():
    driver = cairn.Driver(cairn.Revolve(30, 3), lambda i, x: A @ x, lambda i, x, lam: A.T @ lam)
    assert np.array_equal(driver.run(X0, lambda x: LAM_T), direct_gradient(30, LAM_T))
    wrong = cairn.Driver(cairn.Revolve(30, 3), lambda i, x: np.zeros(N + 1), lambda i, x, lam: None)
    with pytest.raises(ValueError, match="shape"):
        wrong.forward(X0)


def test_same_objects_are_passed_to_every_callback():
    seen_x, seen_lam = set(), set()

    def step(i, x):
        seen_x.add(id(x))
        x *= 1.5

    def adjoint_step(i, x, lam):
        seen_lam.add(id(lam))
        lam *= 1.5

    driver = cairn.Driver(cairn.Revolve(50, 4), step, adjoint_step)
    driver.run(np.ones(3), lambda x: np.ones(3))
    assert len(seen_x) <= 2  # the working state and x_T's
    assert len(seen_lam) == 1


class Boom(Exception):
    pass


def test_callback_exceptions_propagate_and_the_driver_runs_again():
    calls = {"n": 0}

    def failing_step(i, x):
        calls["n"] += 1
        if calls["n"] == 17:
            raise Boom("step 17")
        x[:] = A @ x

    model = Model()
    driver = cairn.Driver(cairn.Revolve(40, 3), failing_step, model.adjoint_step)
    with pytest.raises(Boom, match="step 17") as info:
        driver.forward(X0)
    assert type(info.value) is Boom
    with pytest.raises(RuntimeError, match="forward"):
        driver.backward(LAM_T)  # the failed forward left nothing to reverse
    x_t = driver.forward(X0)
    assert np.array_equal(x_t, direct_final(40, X0))
    assert np.array_equal(driver.backward(LAM_T), direct_gradient(40, LAM_T))

    def failing_adjoint(i, x, lam):
        if i == 5:
            raise KeyError("adjoint 5")
        lam[:] = A.T @ lam

    driver = cairn.Driver(cairn.Revolve(40, 3), model.step, failing_adjoint)
    with pytest.raises(KeyError, match="adjoint 5"):
        driver.run(X0, lambda x: LAM_T)
    with pytest.raises(ZeroDivisionError):
        driver.run(X0, lambda x: 1 / 0)


def test_backward_needs_a_forward():
    model = Model()
    driver = cairn.Driver(cairn.Revolve(10, 2), model.step, model.adjoint_step)
    with pytest.raises(RuntimeError, match="no forward sweep"):
        driver.backward(LAM_T)
    driver.forward(X0)
    driver.backward(LAM_T)
    with pytest.raises(RuntimeError, match="no forward sweep"):
        driver.backward(LAM_T)


def test_online_driver_equals_the_offline_gradient():
    steps = 57
    model = Model()
    online = cairn.OnlineRevolve(4)
    driver = cairn.Driver(online, model.step, model.adjoint_step)
    driver.start(X0)
    for _ in range(steps):
        driver.step()
    assert driver.steps == steps
    state = driver.state
    assert not state.flags.writeable and np.array_equal(state, direct_final(steps, X0))
    lam0 = driver.finish(lambda x_t: LAM_T.copy())
    assert np.array_equal(lam0, direct_gradient(steps, LAM_T))
    assert driver.statistics["adjoint_calls"] == steps
    assert len(model.adjoints) == steps and len(model.steps) >= steps
    with pytest.raises(RuntimeError, match="online"):
        cairn.Driver(cairn.Revolve(5, 2), model.step, model.adjoint_step).start(X0)
    with pytest.raises(RuntimeError, match="online schedule"):
        driver.run(X0, lambda x: LAM_T)
    with pytest.raises(RuntimeError, match="no online run"):
        driver.step()


def test_states_of_any_shape_and_dtype():
    def step(i, x):
        x += 1

    def adjoint_step(i, x, lam):
        lam *= 2

    driver = cairn.Driver(cairn.Revolve(12, 3), step, adjoint_step)
    x0 = np.arange(6, dtype=np.int32).reshape(2, 3)
    x_t = driver.forward(x0)
    assert x_t.dtype == np.int32 and x_t.shape == (2, 3) and np.array_equal(x_t, x0 + 12)
    lam0 = driver.backward(np.ones(4, dtype=np.float32))  # lambda has its own shape and dtype
    assert lam0.dtype == np.float32 and np.array_equal(lam0, np.full(4, 2.0**12))
    converted = cairn.Driver(cairn.Revolve(12, 3), step, adjoint_step, dtype=np.float64)
    assert converted.forward([1, 2, 3]).dtype == np.float64
    with pytest.raises(ValueError, match="numbers"):
        driver.forward(np.array([object()]))


def test_the_schedule_is_busy_during_a_run():
    schedule = cairn.Revolve(10, 2)

    def step(i, x):
        schedule.next_actions()

    driver = cairn.Driver(schedule, step, lambda i, x, lam: None)
    with pytest.raises(RuntimeError, match="in use"):
        driver.forward(X0)
    assert len(schedule.actions()) > 0  # free again afterwards


def test_one_forward_run_several_backward_sweeps():
    steps, sweeps = 60, 3
    schedule = cairn.TwoLevelRevolve(steps, 2, (cairn.UNLIMITED, 2.0, 2.0), sweeps=sweeps)
    model = Model()
    driver = cairn.Driver(schedule, model.step, model.adjoint_step)
    assert np.array_equal(driver.forward(X0), direct_final(steps, X0))
    for k in range(sweeps):
        seed = LAM_T * (k + 1.5)
        assert np.array_equal(driver.backward(seed), direct_gradient(steps, seed))
    assert driver.statistics["adjoint_calls"] == sweeps * steps
    # One forward run in all: the step calls are the stream's advances plus the one to x_T.
    same = cairn.TwoLevelRevolve(steps, 2, (cairn.UNLIMITED, 2.0, 2.0), sweeps=sweeps)
    checked = cairn.check(same, steps, same.slots_per_level)
    assert checked, checked.reason
    assert len(model.steps) == checked.costs.forward_steps + 1
    with pytest.raises(RuntimeError, match="no forward sweep to reverse"):
        driver.backward(LAM_T)
