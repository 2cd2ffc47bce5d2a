"""Every C++ error arrives as the Python exception of its kind, with the C++ message."""
import numpy as np
import pytest

import cairn


@pytest.mark.parametrize("make,exception,phrase", [
    (lambda: cairn.Revolve(0, 3), ValueError, "steps"),
    (lambda: cairn.Revolve(10, 0), ValueError, "slots"),
    (lambda: cairn.StoreAll(0), ValueError, "steps"),
    (lambda: cairn.Uniform(10, 0), ValueError, "interval"),
    (lambda: cairn.OnlineRevolve(0), ValueError, "slots"),
    (lambda: cairn.simulate_online(0, 2), ValueError, "steps"),
    (lambda: cairn.MultilevelRevolve(10, [1, 1, 1, 1]), ValueError, "levels"),
    (lambda: cairn.MultilevelRevolve(10, [(2, -1.0, 0.0)]), ValueError, "cost"),
    (lambda: cairn.MultilevelRevolve(10, ["x"]), TypeError, "StorageLevel"),
    (lambda: cairn.HeterogeneousRevolve([], [], [], 10), ValueError, "no step"),
    (lambda: cairn.HeterogeneousRevolve([1, 1], [0], [1, 1], 10), ValueError, "same length"),
    (lambda: cairn.HeterogeneousRevolve([1, 1], [0, 0], [4, 4], 2), ValueError, "budget"),
    (lambda: cairn.HeterogeneousRevolve([1, 1], [0, 0], [4, -4], 8), ValueError, "negative"),
    (lambda: cairn.beta(-1, 2), ValueError, ""),
    (lambda: cairn.repetitions(0, 2), ValueError, ""),
    (lambda: cairn.Revolve(10, 2).next_actions(-1), ValueError, "max_actions"),
    (lambda: cairn.Action(8), ValueError, "kind must be"),
])
def test_bad_arguments(make, exception, phrase):
    with pytest.raises(exception, match=phrase):
        make()


def test_overflow_is_overflow_error():
    with pytest.raises(OverflowError, match="overflow"):
        cairn.beta(200, 200)
    with pytest.raises(OverflowError, match="fits in 64 bits"):
        cairn.info(2**62, 1)
    with pytest.raises(OverflowError, match="overflow"):
        cairn.forward_cost(2**62, 1)


def test_length_error_is_value_error():
    with pytest.raises(ValueError, match="table"):
        cairn.MultilevelRevolve(2000, [50, 50], max_table_bytes=1000)
    with pytest.raises(ValueError, match="HeterogeneousRevolve"):
        cairn.HeterogeneousRevolve(np.ones(500), np.zeros(500), np.arange(1, 501), 10**5,
                                   max_table_bytes=1000)


def test_logic_error_is_runtime_error():
    online = cairn.OnlineRevolve(3)
    with pytest.raises(RuntimeError, match="finish"):
        online.next_actions()
    with pytest.raises(RuntimeError, match="start"):
        online.advanced()
    online.start()
    with pytest.raises(RuntimeError, match="step"):
        online.finish()


def test_python_ints_beyond_int64_are_refused():
    with pytest.raises(TypeError):
        cairn.Revolve(2**70, 3)
