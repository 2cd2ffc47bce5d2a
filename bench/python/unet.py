#!/usr/bin/python3
"""A U-Net on small images trained one step per plan, at equal memory budgets: the
structure-aware baseline (keep what the skip connections read, recompute inside the blocks),
sqrt(n) segments over the topological order (torch's scheme on a linearization), and the optimal
plan (cairn.plan_milp where the package was built with CBC; otherwise plan_exhaustive where the
graph is small enough, and the output says which), beside plain autograd and store-all. Peak
memory measured (bench/python/_deep_bench.py says how) beside the plan's prediction, time per
training step, gradients against plain autograd. Every plan runs through
cairn.torch.GraphModule on the same profile (measured once, in this process). The optimal plans
are made here too and replayed in the configurations' processes: the MILP solver's own memory
(1.7-3.6 MiB of resident set in one check) would otherwise count in the measured peak.

The network: 4 levels, two 3x3 convolutions (+ ReLU) per level and side, each its own node:
encoder levels 1-3 (the second convolution's output is the skip), max-pooling inside the next
level's first convolution, the bottom level, and decoder levels 3-1 whose first convolution reads
the nearest-neighbour upsampled previous output concatenated with the skip; a 3x3 head to one
channel. 15 nodes, 3 skip connections; channels 8, 16, 32, 64 on 96x96 images, batch 2.

The budgets: the predicted peaks of the baselines (the optimal plan runs at each), and budgets
below the least of them down to where the optimal planner finds no plan. Verdicts, at each
baseline's budget: the optimal plan's predicted cost and its measured time per step against the
baseline's (the time within --time-tolerance, 5%, of timing noise), its measured peak against the
baseline's; and whether it reaches a measured peak below every baseline's.

usage: bench/python/unet.py [--device cpu|cuda] [--dtype float32|float64] [--quick]
           [--repeat 5] [--below 2] [--max-states N] [--json FILE] [--plot FILE.png]
"""
import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from typing import Any, Dict, List

import _deep_bench as bench

NAME = "unet"


def sizes(quick: bool) -> Dict[str, Any]:
    if quick:
        return dict(batch=1, image=32, channels=[4, 4, 8, 8], seed=0)
    return dict(batch=2, image=96, channels=[8, 16, 32, 64], seed=0)


def blocks_of(torch: Any, size: Dict[str, Any], dtype: Any, device: str) -> List[Any]:
    """(name, module, inputs) of the U-Net, weights from the seed."""
    nn, F = torch.nn, torch.nn.functional

    class Conv(nn.Module):
        def __init__(self, cin: int, cout: int, pool: bool = False, relu: bool = True):
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, 3, padding=1)
            self.pool, self.relu = pool, relu

        def forward(self, x):
            y = self.conv(F.max_pool2d(x, 2) if self.pool else x)
            return torch.relu(y) if self.relu else y

    class Up(nn.Module):
        def __init__(self, cin: int, cskip: int, cout: int):
            super().__init__()
            self.conv = nn.Conv2d(cin + cskip, cout, 3, padding=1)

        def forward(self, x, skip):
            up = F.interpolate(x, scale_factor=2, mode="nearest")
            return torch.relu(self.conv(torch.cat([up, skip], dim=1)))

    torch.manual_seed(size["seed"])
    c = size["channels"]
    blocks = [("enc1a", Conv(3, c[0]), ["input"]), ("enc1b", Conv(c[0], c[0]), ["enc1a"])]
    for level in (2, 3):
        blocks += [(f"enc{level}a", Conv(c[level - 2], c[level - 1], pool=True),
                    [f"enc{level - 1}b"]),
                   (f"enc{level}b", Conv(c[level - 1], c[level - 1]), [f"enc{level}a"])]
    blocks += [("bota", Conv(c[2], c[3], pool=True), ["enc3b"]),
               ("botb", Conv(c[3], c[3]), ["bota"])]
    previous, width = "botb", c[3]
    for level in (3, 2, 1):
        blocks += [(f"dec{level}a", Up(width, c[level - 1], c[level - 1]),
                    [previous, f"enc{level}b"]),
                   (f"dec{level}b", Conv(c[level - 1], c[level - 1]), [f"dec{level}a"])]
        previous, width = f"dec{level}b", c[level - 1]
    blocks.append(("head", Conv(c[0], 1, relu=False), [previous]))
    for _, module, _ in blocks:
        module.to(device=device, dtype=dtype)
    return blocks


def plain_forward(blocks: List[Any], x: Any) -> Any:
    values = {"input": x}
    for name, module, inputs in blocks:
        values[name] = module(*[values[u] for u in inputs])
    return values[blocks[-1][0]]


def batch_of(torch: Any, size: Dict[str, Any], dtype: Any, device: str, n: int = 0) -> Any:
    g = torch.Generator().manual_seed(size["seed"] + 1)
    x = torch.randn(n or size["batch"], 3, size["image"], size["image"], generator=g)
    return x.to(device=device, dtype=dtype).requires_grad_(True)


class ReplayedPlan:
    """The parent's optimal plan in a configuration's process: its stream replayed by
    cairn.check_plan, so that the solver (CBC's own allocations) does not run in the process whose
    peak memory is measured."""

    def __init__(self, graph: Any, actions: List[List[int]], method: str, optimal: bool):
        import cairn
        import numpy
        self._actions = numpy.array([tuple(a) for a in actions], dtype=cairn.GRAPH_ACTION_DTYPE)
        costs = cairn.check_plan(graph, self._actions)
        if not costs.legal:
            raise RuntimeError(f"unet.py: the parent's plan does not replay: {costs.reason}")
        self.cost, self.peak_bytes = costs.cost, costs.peak_bytes
        self.method, self.optimal = method, optimal

    def action_array(self) -> Any:
        return self._actions


def planner_of(config: Dict[str, Any]) -> Any:
    """What GraphModule gets as its planner for a configuration."""
    if "actions" in config:
        return lambda graph, budget: ReplayedPlan(graph, config["actions"], config["method"],
                                                  config["optimal"])
    return config["planner"]


def make(spec: Dict[str, Any]) -> bench.Workload:
    import torch
    import cairn.torch as ct

    dtype = getattr(torch, spec["dtype"])
    size, device, config = spec["size"], spec["device"], spec["config"]
    blocks = blocks_of(torch, size, dtype, device)
    x = batch_of(torch, size, dtype, device)
    small = batch_of(torch, size, dtype, device, n=1)
    params = [p for _, m, _ in blocks for p in m.parameters()]

    def plain(inp):
        plain_forward(blocks, inp).square().mean().backward()

    if config["kind"] == "plain":
        return bench.Workload(torch, device, params, x, plain, plain, small)
    with open(spec["profile"]) as f:
        profile = [ct.LayerProfile(**p) for p in json.load(f)]
    net = ct.GraphModule(blocks, memory=config.get("budget"), planner=planner_of(config),
                         preserve_rng_state=False)
    net.profile = profile
    trained = net.plan_for(x)
    info = dict(predicted_bytes=trained.predicted_peak_bytes, method=trained.plan.method,
                plan_cost=trained.plan.cost, optimal=bool(trained.plan.optimal))

    def step(inp):
        if inp.shape != x.shape:  # the small warm-up batch: plain autograd
            return plain(inp)
        net(inp).square().mean().backward()

    def executor_count() -> Dict[str, Any]:
        net.debug_memory = True
        net(x).square().mean().backward()
        net.debug_memory = False
        return dict(executor_bytes=trained.measured_peak_bytes)
    return bench.Workload(torch, device, params, x, step, plain, small, info,
                          after=executor_count)


def profile_unet(spec: Dict[str, Any]) -> Dict[str, Any]:
    """The profile of the network (one pass, saved for every configuration) and its graph."""
    import torch
    import cairn.torch as ct

    dtype = getattr(torch, spec["dtype"])
    blocks = blocks_of(torch, spec["size"], dtype, spec["device"])
    x = batch_of(torch, spec["size"], dtype, spec["device"])
    start = time.perf_counter()
    trained = ct.GraphModule(blocks, planner="store_all").plan_for(x)
    seconds = time.perf_counter() - start
    with open(spec["profile"], "w") as f:
        json.dump([dataclasses.asdict(p) for p in trained.profile], f)
    return dict(graph=trained.graph, seconds=seconds)


def optimal_planner(graph: Any, max_states: int) -> Dict[str, Any]:
    """Which planner gives the optimal plan here, or why none does."""
    import cairn
    if getattr(cairn, "HAS_MILP", False):
        return dict(planner="milp", plan=lambda b: cairn.plan_milp(graph, b), why="",
                    least=lambda: int(cairn.milp_min_budget(graph)))
    if len(graph) > 20:
        return dict(planner=None, why=f"cairn was built without CBC (no plan_milp) and "
                    f"plan_exhaustive takes at most 20 nodes, this graph has {len(graph)}")
    return dict(planner="exhaustive", why="cairn was built without CBC: plan_exhaustive "
                f"(every legal stream, at most {max_states} states) stands in for plan_milp",
                plan=lambda b: cairn.plan_exhaustive(graph, b, max_states))


def try_plan(optimal: Dict[str, Any], budget: int) -> Dict[str, Any]:
    start = time.perf_counter()
    try:
        plan = optimal["plan"](budget)
    except (ValueError, MemoryError) as e:  # std::length_error arrives as ValueError
        return dict(plan=None, why=str(e).splitlines()[0][:200])
    return dict(plan=plan, seconds=time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bench.common_arguments(p)
    p.add_argument("--below", type=int, default=2,
                   help="optimal-plan budgets below the least baseline peak (default 2)")
    p.add_argument("--max-states", type=int, default=None,
                   help="plan_exhaustive's state limit where there is no MILP (default 10^6, "
                        "10^5 with --quick)")
    p.add_argument("--time-tolerance", type=float, default=0.05)
    args = p.parse_args()
    if args.child:
        bench.child_main(args.child, make)
        return
    bench.require_torch_and_cairn(NAME, args.device)
    import cairn
    repeat = args.repeat or (2 if args.quick else 5)
    below = 1 if args.quick and args.below == 2 else args.below
    if args.max_states is None:
        args.max_states = 100_000 if args.quick else 1_000_000
    in_process = args.in_process or args.device == "cuda"
    script = os.path.abspath(__file__)
    began = time.perf_counter()
    load_before = bench.load_average()
    base = dict(size=sizes(args.quick), dtype=args.dtype, device=args.device, repeat=repeat)

    with tempfile.TemporaryDirectory() as tmp:
        base["profile"] = os.path.join(tmp, "profile.json")
        prof = profile_unet(base)
        graph = prof["graph"]
        baselines = dict(store_all=cairn.plan_store_all(graph),
                         structure_aware=cairn.plan_structure_aware(graph),
                         segments=cairn.plan_segments(graph, 0))
        optimal = optimal_planner(graph, args.max_states)
        print(f"{NAME}: {len(graph)} nodes, image {base['size']['image']}, batch "
              f"{base['size']['batch']}, {args.dtype} on {args.device}; profiled in "
              f"{prof['seconds']:.2f} s; load average {load_before}", flush=True)
        if optimal["why"]:
            print(f"  optimal plan: {optimal['why']}", flush=True)

        configs: List[Dict[str, Any]] = [dict(kind="plain", label="plain autograd",
                                              predicted=baselines["store_all"].peak_bytes)]
        for name, plan in baselines.items():
            configs.append(dict(kind="baseline", planner=name, label=name,
                                predicted=plan.peak_bytes))
        planned = []
        if optimal["planner"]:
            budgets = sorted({plan.peak_bytes for plan in baselines.values()}, reverse=True)
            least = min(budgets)
            for i in range(1, below + 1):  # down to where no plan fits
                budgets.append(int(least * (1 - 0.25 * i)))
            # The optimal planner's own least budget, where it lies below the baselines' (the
            # fractions above may all miss it).
            lowest = optimal["least"]() if below > 0 and "least" in optimal else None
            if lowest is not None and lowest < least and lowest not in budgets:
                budgets.append(lowest)
            for budget in budgets:
                made = try_plan(optimal, budget)
                if made["plan"] is None:
                    print(f"  no optimal plan within {bench.mib(budget)} MiB: {made['why']}",
                          flush=True)
                    continue
                planned.append(dict(budget=budget, seconds=made["seconds"],
                                    cost=made["plan"].cost))
                configs.append(dict(kind="optimal", planner=optimal["planner"], budget=budget,
                                    actions=made["plan"].action_array().tolist(),
                                    method=made["plan"].method,
                                    optimal=bool(made["plan"].optimal),
                                    label=f"{optimal['planner']} {bench.mib(budget)} MiB"))
        rows = bench.measure_configs(script, base, configs, in_process, make, repeat)

    load_after = bench.load_average()
    plain = rows[0]
    table = [bench.table_row(r, plain) for r in rows]
    print()
    bench.print_table(bench.TABLE_HEADER, table)
    print()
    verdict = dict(per_baseline=[], optimal=optimal["planner"], why=optimal["why"])
    opt_rows = [r for r in rows if r["kind"] == "optimal"]
    for b in (r for r in rows if r["kind"] == "baseline"):
        match = [r for r in opt_rows if r["budget"] == b["predicted"]]
        if not match:
            print(f"  {b['label']}: no optimal plan at its budget")
            continue
        o = match[0]
        entry = dict(baseline=b["label"], optimal=o["label"],
                     cost_ratio=o["plan_cost"] / b["plan_cost"],
                     time_ratio=o["seconds"] / b["seconds"],
                     memory_ratio=o["peak_bytes"] / b["peak_bytes"])
        verdict["per_baseline"].append(entry)
        print(f"  at {b['label']}'s budget {bench.mib(b['predicted'])} MiB: optimal/baseline "
              f"plan cost {entry['cost_ratio']:.3f}, measured time {entry['time_ratio']:.3f}, "
              f"measured peak {entry['memory_ratio']:.3f}")
    if opt_rows:
        tol = args.time_tolerance
        ok = [e for e in verdict["per_baseline"] if e["time_ratio"] <= 1 + tol]
        verdict["time_holds"] = len(ok) == len(verdict["per_baseline"])
        print(f"Verdict: the optimal plan's time <= the baseline's at its budget: "
              f"{'yes' if verdict['time_holds'] else 'NO'} ({len(ok)} of "
              f"{len(verdict['per_baseline'])} within {100 * tol:.0f}% timing noise)")
        for key, what in (("peak_bytes", "measured peak"), ("live_peak_bytes", "live bytes")):
            if not all(key in r for r in rows):
                continue
            least_base = min(r[key] for r in rows if r["kind"] == "baseline")
            least_opt = min(r[key] for r in opt_rows)
            verdict[f"reaches_below_by_{key}"] = least_opt < 0.95 * least_base
            print(f"Verdict: the optimal plan reaches memories no baseline does ({what}): "
                  f"{'yes' if least_opt < 0.95 * least_base else 'NO'} (least: optimal "
                  f"{bench.mib(least_opt)} MiB, baselines {bench.mib(least_base)} MiB)")
    else:
        print(f"Verdict: no optimal plan measured: {optimal['why']}")
    ratios = [r["measured_over_predicted"] for r in rows]
    live = [r["live_peak_bytes"] / r["predicted"] for r in rows if r.get("live_peak_bytes")]
    if live:
        print(f"live/predicted peak: {min(live):.3f}..{max(live):.3f}")
    print(f"measured/predicted peak: {min(ratios):.3f}..{max(ratios):.3f}; max gradient error "
          f"{max(r['grad_rel_error'] for r in rows):.1e}; {time.perf_counter() - began:.0f} s; "
          f"load average before {load_before}, after {load_after}; peak by "
          f"{rows[0].get('peak_method')}")
    bench.write_json(args.json, dict(benchmark=NAME, args=vars(args), size=base["size"],
                                     nodes=len(graph), planned=planned, rows=rows,
                                     verdicts=verdict, load_before=load_before,
                                     load_after=load_after))
    curves = [dict(label=f"optimal ({optimal['planner']}), budget sweep", style="o-",
                   points=[(r["peak_bytes"], r["seconds"], "") for r in opt_rows])]
    for r, style in zip([r for r in rows if r["kind"] == "baseline"], ["ks", "r^", "gD"]):
        curves.append(dict(label=r["label"], style=style,
                           points=[(r["peak_bytes"], r["seconds"], "")]))
    curves.append(dict(label="plain autograd", style="k*",
                       points=[(plain["peak_bytes"], plain["seconds"], "")]))
    note = bench.plot_curves(args.plot, f"{NAME}: {len(graph)} nodes, {args.dtype} on "
                             f"{args.device}", curves)
    if note:
        print(note)
    elif args.plot:
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    sys.exit(main())
