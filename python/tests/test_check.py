"""cairn.check over every kind of input, and what it reports."""
import numpy as np
import pytest

import cairn


def test_check_of_an_array_a_schedule_and_a_list_agree():
    whole = cairn.Revolve(30, 3).actions()
    from_array = cairn.check(whole, 30, 3)
    from_schedule = cairn.check(cairn.Revolve(30, 3), 30, [3])
    from_list = cairn.check(list(cairn.Revolve(30, 3)), 30, 3)
    for result in (from_array, from_schedule, from_list):
        assert result.legal and bool(result) and result.first_illegal_index == -1
        assert result.reason == ""
        assert result.costs.actions == len(whole)
        assert result.costs.forward_steps == cairn.forward_cost(30, 3)
    c = from_array.costs
    assert c.advances == (whole["kind"] == cairn.ADVANCE).sum()
    assert c.stores == c.levels[0].stores == (whole["kind"] == cairn.STORE).sum()
    assert c.restores == c.levels[0].restores == 29
    assert c.reverses == 30 and c.levels[0].frees == 0 and c.levels[0].peak_slots == 3
    assert "legal" in repr(from_array)


def test_check_reads_a_schedule_from_where_it_stands():
    schedule = cairn.Revolve(20, 2)
    schedule.next_actions(1)  # the store of x_0 is gone: the rest is illegal from x_0's view
    result = cairn.check(schedule, 20, 2)
    assert not result
    schedule.reset()
    assert cairn.check(schedule, 20, 2)
    assert len(schedule.next_actions()) == 0  # positioned after END


def test_illegal_streams_name_the_action():
    stream = [cairn.Action.advance(0, 2), cairn.Action.reverse(0)]
    result = cairn.check(stream, 2, 1)
    assert not result and result.first_illegal_index == 1
    assert "reverse" in result.reason
    assert "illegal at 1" in repr(result)
    unfinished = cairn.check([cairn.Action.advance(0, 1)], 2, 1)
    assert not unfinished and unfinished.first_illegal_index == 1
    assert "ended before" in unfinished.reason


def test_check_stops_at_the_first_illegal_action_and_leaves_the_rest():
    schedule = cairn.Revolve(50, 3)
    result = cairn.check(schedule, 50, 2)  # one slot short
    assert not result
    index = result.first_illegal_index
    rest = schedule.next_actions(10**6)
    assert len(rest) + index + 1 == len(cairn.Revolve(50, 3).actions())


def test_max_actions_and_uncounted_advances():
    result = cairn.check(cairn.Revolve(10, 2), 10, 2, max_actions=3)
    assert not result and result.costs.actions == 3
    uncounted = cairn.check(cairn.Revolve(10, 2), 10, 2, count_advances_per_step=False)
    assert uncounted and uncounted.costs.max_advances_per_step == -1


def test_bad_inputs():
    with pytest.raises(TypeError, match="ACTION_DTYPE"):
        cairn.check(np.zeros(3), 3, 1)
    with pytest.raises(TypeError, match="iterable of cairn.Action"):
        cairn.check([1, 2], 3, 1)
    bad = np.zeros(1, dtype=cairn.ACTION_DTYPE)
    bad["kind"] = 9
    with pytest.raises(ValueError, match="is no cairn.ActionKind"):
        cairn.check(bad, 3, 1)
    with pytest.raises(ValueError, match="steps"):
        cairn.check([], 0, 1)


def test_cost_prices_a_stream():
    costs = cairn.check(cairn.Revolve(100, 3), 100, 3).costs
    assert cairn.cost(costs) == 490
    assert cairn.cost(costs, forward_step=2, backward_step=1, write=[0.5], read=[0.25]) == (
        2 * 490 + 100 + 0.5 * costs.stores + 0.25 * costs.restores)
