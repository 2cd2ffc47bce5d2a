"""cairn.MixedRevolve from Python: legal streams within the units, the published counts, and the
new actions in the vocabulary."""
import cairn
import pytest


def test_mixed_counts_and_checker() -> None:
    schedule = cairn.MixedRevolve(1000, 10)
    assert schedule.forward_evaluations == 3921
    result = cairn.check(schedule, 1000, 10)
    assert result.legal, result.reason
    assert result.costs.forward_evaluations == 3921
    assert result.costs.taped_steps + result.costs.forward_steps == 3921
    assert result.costs.levels[0].peak_units <= 10
    assert cairn.cost(result.costs, 1.0, 0.0, taped_step=1.0) == schedule.optimal_cost


def test_mixed_stage_sized_data() -> None:
    schedule = cairn.MixedRevolve(200, 20, adjoint_units=4)
    assert schedule.adjoint_units == 4
    result = cairn.check(schedule, 200, 20)
    assert result.legal, result.reason
    assert result.costs.levels[0].peak_units <= 20
    assert result.costs.stored_reverses > 0


def test_mixed_actions_and_errors() -> None:
    action = cairn.Action.store_adjoint(2, 5)
    assert action.kind == cairn.ActionKind.STORE_ADJOINT
    assert action.to_json() == '{"op":"store_adjoint","slot":2,"step":5,"level":"ram"}'
    assert cairn.Action.reverse_stored(2, 5).kind == cairn.ActionKind.REVERSE_STORED
    with pytest.raises(ValueError, match="units >= 1"):
        cairn.MixedRevolve(10, 0)
    with pytest.raises(ValueError, match="at least uf"):
        cairn.MixedRevolve(10, 3, forward_cost=2.0, taped_cost=1.0)
