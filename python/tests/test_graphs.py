"""The deep-network model's bindings: Graph and GraphNode, check_plan on every form of a stream,
GraphPlan's fields, each planner's plan legal and within its budget, and C++'s invalid_argument
as ValueError."""
import numpy as np
import pytest

import cairn


def unet_like():
    g = cairn.Graph()
    for v, inputs in [(0, []), (1, [0]), (2, [1]), (3, [2, 1]), (4, [3, 0]), (5, [4])]:
        assert g.add(cairn.GraphNode(1.0 + v, 2.0, 10 + 3 * v, 5 * (v % 3), f"n{v}"), inputs) == v
    return g


def test_graph_accessors():
    g = unet_like()
    assert len(g) == g.size() == 6 and not g.is_chain()
    assert g.inputs(3) == [2, 1] and g.consumers(1) == [2, 3] and g.consumers(5) == []
    n = g.node(4)
    assert (n.forward_cost, n.backward_cost, n.output_bytes, n.tape_bytes, n.name) == \
        (5.0, 2.0, 22, 5, "n4")
    g.validate()
    chain = cairn.Graph.chain([cairn.GraphNode(output_bytes=4), cairn.GraphNode(output_bytes=8)])
    assert chain.is_chain() and chain.inputs(1) == [0]
    with pytest.raises(IndexError):
        g.node(6)


def test_output_gradient_held_counts_to_the_end():
    # The chain of tests/test_graph.cpp: node 0's backward peaks with the output's gradient.
    chain = cairn.Graph.chain([cairn.GraphNode(1.0, 1.0, 5, 0, backward_workspace_bytes=10),
                               cairn.GraphNode(1.0, 1.0, 3, 0)])
    assert chain.output_gradient_held is False
    assert cairn.exact_memory_unit(chain) == 1  # gcd(5, 3, 10)
    coarse = cairn.Graph.chain([cairn.GraphNode(output_bytes=12, tape_bytes=8),
                                cairn.GraphNode(output_bytes=20)])
    assert cairn.exact_memory_unit(coarse) == 4
    assert cairn.plan_store_all(chain).peak_bytes == 16
    chain.output_gradient_held = True
    assert cairn.plan_store_all(chain).peak_bytes == 18
    assert cairn.chain_min_budget(chain) == 18
    assert cairn.plan_chain(chain, 18).peak_bytes == 18
    with pytest.raises(ValueError, match="below the least"):
        cairn.plan_chain(chain, 17)


def test_bad_graphs_are_value_errors():
    g = cairn.Graph()
    with pytest.raises(ValueError, match="inputs must be earlier nodes"):
        g.add(cairn.GraphNode(), [0])
    with pytest.raises(ValueError):
        g.add(cairn.GraphNode(output_bytes=0))
    with pytest.raises(ValueError):
        g.add(cairn.GraphNode(forward_cost=-1.0))
    with pytest.raises(ValueError):
        g.validate()  # no node
    g.add(cairn.GraphNode())
    g.add(cairn.GraphNode())  # node 0 does not reach node 1
    with pytest.raises(ValueError):
        g.validate()
    with pytest.raises(ValueError):
        cairn.check_plan(g, [])
    with pytest.raises(ValueError, match="budget_bytes = -1 must be >= 0"):
        cairn.plan_exhaustive(unet_like(), -1)


def test_check_plan_reads_lists_arrays_and_pairs():
    g = unet_like()
    plan = cairn.plan_store_all(g)
    arr = plan.action_array()
    assert arr.dtype == cairn.GRAPH_ACTION_DTYPE and arr.dtype.itemsize == 16
    assert len(arr) == len(plan)
    pairs = [(int(k), int(v)) for k, v in arr.tolist()]
    assert [(int(a.kind), a.node) for a in plan.actions] == pairs
    for stream in (plan.actions, arr, pairs):
        costs = cairn.check_plan(g, stream)
        assert costs and costs.legal and costs.reason == "" and costs.first_illegal_index == -1
        assert costs.cost == plan.cost == sum(1.0 + v for v in range(6)) + 12.0
        assert costs.peak_bytes == plan.peak_bytes and costs.records == 6 and costs.backwards == 6
        assert costs.computes == 0
    assert plan.method == "store_all" and plan.optimal and plan.lower_bound == plan.cost
    first = plan.actions[0]
    assert first == cairn.GraphAction(cairn.GraphActionKind.RECORD, 0)
    assert repr(first) == "GraphAction.record(0)"
    bad = cairn.check_plan(g, [(cairn.GraphActionKind.BACKWARD, 5)])
    assert not bad and bad.first_illegal_index == 0 and "tape" in bad.reason
    with pytest.raises(ValueError, match="is no cairn.GraphActionKind"):
        cairn.check_plan(g, [(7, 0)])
    with pytest.raises(TypeError):
        cairn.check_plan(g, np.zeros(3, dtype=np.int64))


def test_every_planner_is_legal_and_within_budget():
    g = unet_like()
    least = cairn.plan_exhaustive(g, cairn.plan_store_all(g).peak_bytes)
    plans = [cairn.plan_store_all(g), cairn.plan_structure_aware(g), cairn.plan_segments(g),
             cairn.plan_segments(g, 2), least]
    budget = (cairn.plan_store_all(g).peak_bytes * 3) // 4
    try:
        plans.append(cairn.plan_exhaustive(g, budget))
    except ValueError:
        pass
    if cairn.HAS_MILP:
        plans.append(cairn.plan_milp(g, cairn.plan_store_all(g).peak_bytes))
        assert cairn.milp_min_budget(g) > 0
    for plan in plans:
        costs = cairn.check_plan(g, plan.action_array())
        assert costs.legal, (plan.method, costs.reason)
        assert costs.cost == pytest.approx(plan.cost) and costs.peak_bytes == plan.peak_bytes
        assert plan.lower_bound <= plan.cost + 1e-9
    chain = cairn.Graph.chain([cairn.GraphNode(1, 1, a, 2 * a) for a in (8, 24, 16, 8)])
    least = cairn.chain_min_budget(chain)
    plan = cairn.plan_chain(chain, least)
    assert cairn.check_plan(chain, plan.actions).peak_bytes == plan.peak_bytes <= least
    with pytest.raises(ValueError):
        cairn.plan_chain(chain, least - 1)
    with pytest.raises(ValueError):
        cairn.plan_chain(g, 10 ** 6)  # not a chain


@pytest.mark.skipif(cairn.HAS_MILP, reason="built with CBC")
def test_plan_milp_without_cbc_says_so():
    with pytest.raises(RuntimeError, match="built without CBC"):
        cairn.plan_milp(unet_like(), 100)
