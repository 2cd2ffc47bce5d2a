"""Schedules from Python: the streams, their readers, and Revolve's exact costs."""
import math

import numpy as np
import pytest

import cairn


def revolve_r_t(steps: int, slots: int) -> tuple:
    """r(T, c) and t(T, c) = r T - C(c + r, c + 1) from the theory, in Python integers."""
    r = 0
    while math.comb(slots + r, slots) < steps:
        r += 1
    return r, r * steps - math.comb(slots + r, slots + 1)


def test_action_dtype_matches_cpp_layout():
    dt = cairn.ACTION_DTYPE
    assert dt.itemsize == 32
    assert dt.names == ("kind", "level", "slot", "step", "to")
    assert [dt.fields[n][1] for n in dt.names] == [0, 4, 8, 16, 24]
    formats = [np.dtype(t) for t in ("u1", "i4", "i8", "i8", "i8")]
    assert [dt.fields[n][0] for n in dt.names] == formats


def test_action_kind_is_an_int_enum_in_cpp_order():
    names = ["ADVANCE", "STORE", "RESTORE", "REVERSE", "FREE", "END", "STORE_ADJOINT",
             "REVERSE_STORED"]
    assert [k.name for k in cairn.ActionKind] == names
    for value, name in enumerate(names):
        assert cairn.ActionKind[name] == value == getattr(cairn, name)
        assert isinstance(getattr(cairn, name), int)


def test_action_value_type():
    a = cairn.Action.advance(0, 6)
    assert a.kind is cairn.ActionKind.ADVANCE and a.from_ == 0 and a.step == 0 and a.to == 6
    assert repr(a) == "Action(advance, from=0, to=6)"
    assert a == cairn.Action(cairn.ADVANCE, to=6) and a != cairn.Action.advance(0, 5)
    assert hash(a) == hash(cairn.Action.advance(0, 6))
    with pytest.raises(AttributeError):
        a.to = 3  # immutable
    assert repr(cairn.Action.store(2, 5, 1)) == "Action(store, slot=2, step=5, level=1)"
    assert repr(cairn.Action.reverse(14)) == "Action(reverse, step=14)"
    assert repr(cairn.Action.end()) == "Action(end)"


def test_to_json_is_the_cli_format():
    assert cairn.Action.advance(0, 6).to_json() == '{"op":"advance","from":0,"to":6}'
    assert cairn.Action.store(0, 0).to_json() == '{"op":"store","slot":0,"step":0,"level":"ram"}'
    restore = '{"op":"restore","slot":0,"step":0,"level":"ram"}'
    assert cairn.Action.restore(0, 0).to_json() == restore
    assert cairn.Action.reverse(14).to_json() == '{"op":"reverse","step":14}'
    assert cairn.Action.free(2, 1).to_json() == '{"op":"free","slot":2,"level":"disk"}'
    assert cairn.Action.end().to_json() == '{"op":"end"}'
    named = '{"op":"free","slot":2,"level":"slow"}'
    assert cairn.Action.free(2, 1).to_json(["fast", "slow"]) == named


def test_revolve_100_3():
    r = cairn.Revolve(100, 3)
    assert (r.steps, r.slots, r.repetitions, r.forward_steps) == (100, 3, 7, 490)
    assert cairn.repetitions(100, 3) == 7 and cairn.forward_cost(100, 3) == 490
    assert r.name == "revolve" and repr(r) == "Revolve(steps=100, slots=3)"
    assert r.uses_lookup_table and r.slots_per_level == [3]
    assert cairn.Revolve.store_count(50, 7) == 28


@pytest.mark.parametrize("slots", range(1, 9))
def test_revolve_costs_are_the_theory_for_every_t_up_to_60(slots):
    for steps in range(1, 61):
        r, t = revolve_r_t(steps, slots)
        result = cairn.check(cairn.Revolve(steps, slots), steps, slots)
        assert result, (steps, slots, result.reason)
        assert result.costs.forward_steps == t == cairn.forward_cost(steps, slots)
        assert result.costs.max_advances_per_step == r == cairn.repetitions(steps, slots)
        assert result.costs.reverses == steps
        assert result.costs.levels[0].peak_slots <= slots


@pytest.mark.parametrize("steps,slots", [(1000, 10), (10000, 20), (123457, 13), (250000, 50)])
def test_revolve_costs_large(steps, slots):
    r, t = revolve_r_t(steps, slots)
    result = cairn.check(cairn.Revolve(steps, slots), steps, slots)
    assert result and result.costs.forward_steps == t and result.costs.max_advances_per_step == r


def test_info_is_the_cli_json():
    assert cairn.info(100, 3) == {
        "schedule": "revolve", "steps": 100, "slots": 3, "repetitions": 7, "forward_steps": 490,
        "recomputation_factor": 5.9, "stores": 28, "restores": 99, "reverses": 100,
    }
    assert list(cairn.info(10, 2)) == [
        "schedule", "steps", "slots", "repetitions", "forward_steps", "recomputation_factor",
        "stores", "restores", "reverses",
    ]
    assert cairn.beta(3, 7) == math.comb(10, 3)


def all_schedules():
    return [
        cairn.Revolve(57, 4),
        cairn.StoreAll(23),
        cairn.Uniform(41, 6),
        cairn.simulate_online(37, 4),
        cairn.MultilevelRevolve(30, [cairn.StorageLevel(3), (cairn.UNLIMITED, 2.0, 1.0)]),
        cairn.HeterogeneousRevolve(np.linspace(1, 2, 25), [0.5] * 25, [1, 2] * 12 + [1], 8),
    ]


@pytest.mark.parametrize("schedule", all_schedules(), ids=lambda s: s.name)
def test_batches_whole_stream_and_iteration_agree(schedule):
    whole = schedule.actions()
    assert whole.dtype == cairn.ACTION_DTYPE and whole[-1]["kind"] == cairn.END
    assert (whole["kind"] == cairn.END).sum() == 1
    assert len(schedule.next_actions()) == 0  # actions() leaves it after END
    for size in (1, 7, 4096):
        schedule.reset()
        batches = []
        while True:
            batch = schedule.next_actions(size)
            if len(batch) == 0:
                break
            assert len(batch) <= size
            batches.append(batch)
        assert all(len(b) == size for b in batches[:-1])
        assert np.array_equal(np.concatenate(batches), whole)
    schedule.reset()
    listed = list(schedule)
    assert len(listed) == len(whole) and listed[-1] == cairn.Action.end()
    assert all(a.kind == row["kind"] and a.slot == row["slot"] and a.step == row["step"]
               and a.to == row["to"] and a.level == row["level"] for a, row in zip(listed, whole))
    # Readers continue where the last one stopped, iteration's read-ahead included.
    schedule.reset()
    it = iter(schedule)
    first = [next(it) for _ in range(3)]
    rest = schedule.next_actions(len(whole))
    assert [a.to_json() for a in first] == [a.to_json() for a in listed[:3]]
    assert np.array_equal(rest, whole[3:])
    assert list(schedule) == []
    assert cairn.check(whole, schedule.steps, schedule.slots_per_level)


def test_schedule_properties():
    assert cairn.StoreAll(10).slots == 9 and repr(cairn.StoreAll(10)) == "StoreAll(steps=10)"
    u = cairn.Uniform(100, 10)
    assert (u.steps, u.interval, u.slots) == (100, 10, cairn.Uniform.slots_needed(100, 10))
    assert u.forward_steps == 2 * 100 - 1 - 10
    assert cairn.check(u, 100, u.slots).costs.forward_steps == u.forward_steps
    m = cairn.MultilevelRevolve(40, [(3, 0, 0), (5, 0, 0)])
    assert m.action_count == len(m.actions()) and m.levels[1] == cairn.StorageLevel(5)
    h = cairn.HeterogeneousRevolve([1.0] * 20, [0.0] * 20, [8] * 20, 8 * 4)
    assert h.peak_bytes <= 32 and h.memory_unit == 8 and h.action_count == len(h.actions())


def test_multilevel_with_free_io_is_revolve_with_all_slots():
    for steps in (1, 2, 17, 60):
        for c0, c1 in ((1, 1), (2, 3), (4, 0), (0, 3)):
            m = cairn.MultilevelRevolve(steps, [c0, c1])
            result = cairn.check(m, steps, m.slots_per_level)
            assert result, result.reason
            assert result.costs.forward_steps == cairn.forward_cost(steps, c0 + c1)
            assert m.optimal_cost == result.costs.forward_steps


def test_multilevel_cost_matches_the_checker():
    levels = [cairn.StorageLevel(2, 0, 0), cairn.StorageLevel(cairn.UNLIMITED, 3, 2)]
    m = cairn.MultilevelRevolve(50, levels, forward_cost=1.0, backward_cost=0.5)
    result = cairn.check(m, 50, m.slots_per_level)
    assert result
    assert cairn.cost(result.costs, 1.0, 0.5, [0, 3], [0, 2]) == m.optimal_cost


def test_multilevel_three_levels():
    # Device, pinned host, disk: free I/O is Revolve with all the slots together.
    for steps in (1, 2, 17, 60):
        for c0, c1, c2 in ((1, 1, 1), (2, 0, 3), (0, 2, 1)):
            m = cairn.MultilevelRevolve(steps, [c0, c1, c2])
            result = cairn.check(m, steps, m.slots_per_level)
            assert result, result.reason
            assert result.costs.forward_steps == cairn.forward_cost(steps, c0 + c1 + c2)
    # With prices, the checker's cost equals the plan's and each level stays within its slots.
    levels = [(2, 0.0, 0.0), (3, 1.0, 1.0), (cairn.UNLIMITED, 4.0, 2.0)]
    m = cairn.MultilevelRevolve(200, levels, forward_cost=1.0, backward_cost=0.5)
    assert len(m.levels) == 3 and m.levels[2] == cairn.StorageLevel(cairn.UNLIMITED, 4.0, 2.0)
    result = cairn.check(m, 200, m.slots_per_level)
    assert result, result.reason
    assert result.costs.levels[0].peak_slots <= 2 and result.costs.levels[1].peak_slots <= 3
    assert cairn.cost(result.costs, 1.0, 0.5, [0, 1, 4], [0, 1, 2]) == m.optimal_cost
    with pytest.raises(ValueError, match="give one, two or three"):
        cairn.MultilevelRevolve(10, [1, 1, 1, 1])


def test_heterogeneous_equal_chain_is_revolve():
    for steps in (5, 20, 37):
        for c in (2, 3, 5):
            h = cairn.HeterogeneousRevolve(np.ones(steps), np.zeros(steps), np.full(steps, 4),
                                           4 * c)
            result = cairn.check(h, steps, h.slots_per_level)
            assert result and result.costs.forward_steps == cairn.forward_cost(steps, c)


def test_online_protocol_by_hand_is_simulate_online():
    for steps, slots in ((1, 1), (10, 2), (37, 4), (200, 5)):
        online = cairn.OnlineRevolve(slots)
        by_hand = [online.start()]
        for i in range(steps):
            by_hand.append(cairn.Action.advance(i, i + 1))
            batch = online.advanced()
            assert batch.dtype == cairn.ACTION_DTYPE and len(batch) <= online.max_advanced_actions
            by_hand.extend(cairn.Action(int(a["kind"]), int(a["slot"]), int(a["step"]),
                                        int(a["to"]), int(a["level"])) for a in batch)
        assert online.steps == steps and not online.finished
        online.finish()
        assert online.finished
        by_hand.extend(online)
        simulated = list(cairn.simulate_online(steps, slots))
        assert by_hand == simulated
        result = cairn.check(by_hand, steps, slots)
        assert result, result.reason
        assert result.costs.max_advances_per_step <= cairn.repetitions(steps + 1, slots)


def test_two_level_equals_multilevel_and_replays_as_planned():
    for steps in (1, 2, 30, 500):
        for ram, disk in (((3, 0.0, 0.0), (cairn.UNLIMITED, 2.0, 2.0)),
                          ((2, 0.5, 0.5), (4, 3.0, 1.0))):
            two = cairn.TwoLevelRevolve(steps, ram, disk, forward_cost=1.0, backward_cost=1.0)
            exact = cairn.MultilevelRevolve(steps, [ram, disk], 1.0, 1.0)
            assert two.optimal_cost == exact.optimal_cost
            result = cairn.check(two, steps, two.slots_per_level)
            assert result, result.reason
            assert cairn.cost(result.costs, 1.0, 1.0, [ram[1], disk[1]],
                              [ram[2], disk[2]]) == two.optimal_cost


def test_two_level_long_run_and_sweeps():
    long_run = cairn.TwoLevelRevolve(10**8, 10, (cairn.UNLIMITED, 2.0, 2.0), backward_cost=1.0)
    assert long_run.optimal_cost == 327272698.0
    assert long_run.period == 11 and long_run.proven_optimal
    swept = cairn.TwoLevelRevolve(300, 4, (cairn.UNLIMITED, 2.0, 2.0), sweeps=3)
    assert swept.sweeps == 3
    result = cairn.check(swept, 300, swept.slots_per_level)
    assert result, result.reason
    assert result.costs.reverses == 900
    with pytest.raises(ValueError, match="sweeps = 0"):
        cairn.TwoLevelRevolve(10, 2, 2, sweeps=0)
    with pytest.raises(TypeError, match="TwoLevelRevolve: disk must be"):
        cairn.TwoLevelRevolve(10, 2, "disk")
