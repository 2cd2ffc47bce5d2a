#!/usr/bin/python3
"""A deep chain of unequal layers trained one step per configuration: plain autograd,
torch.utils.checkpoint.checkpoint_sequential at every segment count of a sweep, and
cairn.torch.checkpoint_sequential at the same memory as each of torch's and below the least
torch reaches. Peak memory measured (bench/python/_deep_bench.py says how) beside the plan's
prediction, time per training step, gradients against plain autograd.

The chain: a ResNet-style convolutional network on 16x16 images, stages of residual blocks
x + conv3x3(relu(conv3x3(x))), each stage entered by a 3x3 convolution to its own channel count,
drawn log-uniformly from 4..48 (a fixed seed): layer outputs differ by 12x in bytes and 144x in
compute. 24 stages of 1 + 7 layers: 192 layers. Every layer is one element of the
torch.nn.Sequential both checkpoint_sequential functions receive.

The plans: torch's segment count s is predicted by cairn.plan_segments(graph, s) on the graph
Cairn profiled (the same equal-count segments torch runs); Cairn's budgets are those predicted
peaks, --under fractions of the peaks torch's configurations measured, which are taken first
(default 0.97: Cairn's measured peaks are within 1-4% of its predictions on the CPU, torch's
5-6% below theirs at some segment counts, so the Cairn point at torch's measured memory is
planned from that memory, a little below it), and points between the least budget of the chain
(cairn.chain_min_budget) and the least peak of torch's sweep. Both run with
preserve_rng_state=False (the model has no randomness).

Verdicts, on measured memory: "Cairn's time <= torch's at every torch memory" holds when for
every torch configuration some Cairn configuration with a measured peak at most 1% above its
peak has a time at most --time-tolerance (5%) above its time (also printed: how many hold
strictly, without the tolerance); "Cairn reaches memories torch does not" when Cairn's least
measured peak is below 95% of torch's least.

usage: bench/python/deep_chain.py [--device cpu|cuda] [--dtype float32|float64] [--quick]
           [--repeat 5] [--segments 1 2 4 ...] [--below 3] [--under 0.97 ...] [--json FILE]
           [--plot FILE.png]
"""
import argparse
import dataclasses
import json
import math
import os
import sys
import tempfile
import time
from typing import Any, Dict, List

import _deep_bench as bench

NAME = "deep_chain"


def sizes(quick: bool) -> Dict[str, Any]:
    if quick:
        return dict(stages=3, blocks=2, batch=2, image=32, low=4, high=16, seed=0)
    return dict(stages=24, blocks=7, batch=4, image=16, low=4, high=48, seed=0)


def build(torch: Any, size: Dict[str, Any], dtype: Any, device: str) -> Any:
    """The chain as a torch.nn.Sequential, its weights from the seed."""
    nn = torch.nn

    class Residual(nn.Module):
        def __init__(self, channels: int):
            super().__init__()
            self.a = nn.Conv2d(channels, channels, 3, padding=1)
            self.b = nn.Conv2d(channels, channels, 3, padding=1)
            # A small last convolution keeps 100+ residual additions from blowing up.
            nn.init.normal_(self.b.weight, std=0.1 / math.sqrt(9 * channels))
            nn.init.zeros_(self.b.bias)

        def forward(self, x):
            return x + self.b(torch.relu(self.a(x)))

    torch.manual_seed(size["seed"])
    draw = torch.Generator().manual_seed(size["seed"])
    layers, previous = [], 3
    low, high = size["low"], size["high"]
    for _ in range(size["stages"]):
        u = float(torch.rand(1, generator=draw))
        channels = 4 * max(1, round(low * (high / low) ** u / 4))
        enter = nn.Conv2d(previous, channels, 3, padding=1)
        nn.init.normal_(enter.weight, std=1 / math.sqrt(9 * previous))
        nn.init.zeros_(enter.bias)
        layers.append(enter)
        layers.extend(Residual(channels) for _ in range(size["blocks"]))
        previous = channels
    return nn.Sequential(*layers).to(device=device, dtype=dtype)


def batch_of(torch: Any, size: Dict[str, Any], dtype: Any, device: str, n: int = 0) -> Any:
    g = torch.Generator().manual_seed(size["seed"] + 1)
    x = torch.randn(n or size["batch"], 3, size["image"], size["image"], generator=g)
    return x.to(device=device, dtype=dtype).requires_grad_(True)


def load_profile(cairn_torch: Any, path: str) -> List[Any]:
    with open(path) as f:
        return [cairn_torch.LayerProfile(**p) for p in json.load(f)]


def make(spec: Dict[str, Any]) -> bench.Workload:
    """The workload of one configuration (in a child process, or in-process)."""
    import torch
    import torch.utils.checkpoint as tc

    dtype = getattr(torch, spec["dtype"])
    size, device, config = spec["size"], spec["device"], spec["config"]
    model = build(torch, size, dtype, device)
    x = batch_of(torch, size, dtype, device)
    small = batch_of(torch, size, dtype, device, n=1)
    info: Dict[str, Any] = {}

    def plain(inp):
        model(inp).square().mean().backward()

    if config["kind"] == "plain":
        step = plain
    elif config["kind"] == "torch":
        s = config["segments"]

        def step(inp):
            tc.checkpoint_sequential(model, s, inp, preserve_rng_state=False) \
                .square().mean().backward()
    else:
        import cairn.torch as ct
        profile = load_profile(ct, spec["profile"])
        budget = config["budget"]
        plan = ct.plan_sequential(model, x, memory=budget, profile=profile,
                                  preserve_rng_state=False)
        info.update(predicted_bytes=plan.predicted_peak_bytes, method=plan.plan.method,
                    plan_cost=plan.plan.cost, runs_plain=bool(plan.runs_plain))

        def step(inp):
            if inp.shape != x.shape:  # the small warm-up batch: plain autograd
                return plain(inp)
            ct.checkpoint_sequential(model, inp, memory=budget, profile=profile,
                                     preserve_rng_state=False).square().mean().backward()

        def executor_count() -> Dict[str, Any]:
            """The bytes Cairn's executor itself counts as held (debug_memory=True): what
            check_plan predicts, measured on the storages, without allocator or kernel."""
            ct.checkpoint_sequential(model, x, memory=budget, profile=profile,
                                     preserve_rng_state=False, debug_memory=True) \
                .square().mean().backward()
            return dict(executor_bytes=plan.measured_peak_bytes)
        return bench.Workload(torch, device, list(model.parameters()), x, step, plain, small,
                              info, after=executor_count)
    return bench.Workload(torch, device, list(model.parameters()), x, step, plain, small, info)


def profile_chain(spec: Dict[str, Any], path: str) -> Dict[str, Any]:
    """Cairn's profile of the chain (one pass), saved for every configuration to plan from, and
    the graph's predictions: store-all, each segment count, the least budget."""
    import torch
    import cairn
    import cairn.torch as ct

    dtype = getattr(torch, spec["dtype"])
    model = build(torch, spec["size"], dtype, spec["device"])
    x = batch_of(torch, spec["size"], dtype, spec["device"])
    start = time.perf_counter()
    store_all_budget = 2**62
    trained = ct.plan_sequential(model, x, memory=store_all_budget, preserve_rng_state=False)
    seconds = time.perf_counter() - start
    with open(path, "w") as f:
        json.dump([dataclasses.asdict(p) for p in trained.profile], f)
    graph = trained.graph  # plain autograd's plan at that budget: the graph without the flag
    graph.output_gradient_held = True
    least = int(cairn.chain_min_budget(graph))  # Cairn's, with the output gradient kept
    # Plain autograd and torch's checkpoint_sequential free the output's gradient at the last
    # layer's backward; Cairn's one autograd function gets it from the engine, which keeps it
    # (graph.output_gradient_held, set by cairn.torch): their predictions go without it.
    graph.output_gradient_held = False
    return dict(graph=graph, layers=len(graph), profile_seconds=seconds,
                store_all=cairn.plan_store_all(graph), least=least,
                has_segments=hasattr(cairn, "plan_segments"))


def segment_counts(n: int, asked: List[int]) -> List[int]:
    if asked:
        return sorted({s for s in asked if 1 <= s <= n})
    counts = {1, max(1, round(math.sqrt(n)))}
    s = 2
    while s <= n // 4:
        counts.add(s)
        s *= 2
    return sorted(counts)


def verdicts(torch_rows: List[Dict[str, Any]], cairn_rows: List[Dict[str, Any]],
             tolerance: float, key: str = "seconds",
             memory: str = "peak_bytes") -> Dict[str, Any]:
    loose = strict = 0
    details = []
    for t in torch_rows:
        fits = [c for c in cairn_rows if c[memory] <= 1.01 * t[memory]]
        best = min(fits, key=lambda c: c[key]) if fits else None
        ratio = best[key] / t[key] if best else None
        loose += ratio is not None and ratio <= 1 + tolerance
        strict += ratio is not None and ratio <= 1
        details.append(dict(torch=t["label"], cairn=best["label"] if best else None,
                            time_ratio=ratio))
    least_torch = min(t[memory] for t in torch_rows)
    least_cairn = min(c[memory] for c in cairn_rows) if cairn_rows else None
    return dict(time_holds=bool(cairn_rows) and loose == len(torch_rows), time_loose=loose,
                time_strict=strict, time_total=len(torch_rows), per_torch=details,
                least_torch_bytes=least_torch, least_cairn_bytes=least_cairn,
                reaches_below=least_cairn is not None and least_cairn < 0.95 * least_torch)


def planned_verdict(torch_rows: List[Dict[str, Any]],
                    cairn_rows: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The planner's side of the time verdict, free of timing noise and executor overhead: the
    plan cost (profiled seconds) of Cairn at each torch configuration's predicted peak against
    that configuration's plan_segments cost."""
    ratios = []
    for t in torch_rows:
        match = [c for c in cairn_rows if c["budget"] == t["predicted"]]
        if match:
            ratios.append(match[0]["plan_cost"] / t["plan_cost"])
    return dict(holds=bool(ratios) and max(ratios) <= 1 + 1e-9, count=len(ratios),
                low=min(ratios, default=float("nan")), high=max(ratios, default=float("nan")))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bench.common_arguments(p)
    p.add_argument("--segments", type=int, nargs="*", default=[],
                   help="torch's segment counts (default 1, 2, 4, .., n/4 and sqrt(n))")
    p.add_argument("--below", type=int, default=3,
                   help="Cairn budgets below torch's least predicted peak (default 3)")
    p.add_argument("--under", type=float, nargs="*", default=None,
                   help="Cairn budgets at these fractions of each torch configuration's measured "
                        "peak too (default 0.97; none with --quick)")
    p.add_argument("--time-tolerance", type=float, default=0.05,
                   help="timing noise allowed in the time verdict (default 0.05)")
    args = p.parse_args()
    if args.child:
        bench.child_main(args.child, make)
        return
    bench.require_torch_and_cairn(NAME, args.device)
    repeat = args.repeat or (2 if args.quick else 5)
    below = 1 if args.quick and args.below == 3 else args.below
    in_process = args.in_process or args.device == "cuda"
    script = os.path.abspath(__file__)
    base = dict(size=sizes(args.quick), dtype=args.dtype, device=args.device, repeat=repeat)
    began = time.perf_counter()
    load_before = bench.load_average()

    with tempfile.TemporaryDirectory() as tmp:
        base["profile"] = os.path.join(tmp, "profile.json")
        prof = profile_chain(base, base["profile"])
        graph, n = prof["graph"], prof["layers"]
        import cairn
        sizes_out = [graph.node(v).output_bytes for v in range(n)]
        print(f"{NAME}: {n} layers, outputs {bench.mib(min(sizes_out))}.."
              f"{bench.mib(max(sizes_out))} MiB "
              f"({max(sizes_out) / min(sizes_out):.0f}x), "
              f"batch {base['size']['batch']}, {args.dtype} on {args.device}; profiled in "
              f"{prof['profile_seconds']:.2f} s; store-all predicts "
              f"{bench.mib(prof['store_all'].peak_bytes)} MiB, least budget "
              f"{bench.mib(prof['least'])} MiB; load average {load_before}", flush=True)

        configs: List[Dict[str, Any]] = [dict(kind="plain", label="plain autograd",
                                              predicted=prof["store_all"].peak_bytes,
                                              plan_cost=prof["store_all"].cost)]
        for s in segment_counts(n, args.segments):
            segments = cairn.plan_segments(graph, s)
            configs.append(dict(kind="torch", segments=s, label=f"torch s={s}",
                                predicted=segments.peak_bytes, plan_cost=segments.cost))
        rows = bench.measure_memories(script, base, configs, in_process, make)
        torch_peaks = sorted({c["predicted"] for c in configs if c["kind"] == "torch"})
        measured_peaks = sorted({r["peak_bytes"] for r in rows if r["kind"] == "torch"})
        under = args.under if args.under is not None else ([] if args.quick else [0.97])
        budgets = {b for b in torch_peaks if b >= prof["least"]}
        budgets |= {int(f * b) for b in measured_peaks for f in under
                    if 0 < f <= 1 and int(f * b) >= prof["least"]}
        low, high = prof["least"], min(torch_peaks)
        for i in range(below):  # geometric, from the least budget up to torch's least
            if high > low:
                budgets.add(int(low * (high / low) ** (i / below)))
        cairn_configs = [dict(kind="cairn", budget=b, label=f"cairn {bench.mib(b)} MiB")
                         for b in sorted(budgets, reverse=True)]
        rows += bench.measure_memories(script, base, cairn_configs, in_process, make)
        configs += cairn_configs
        bench.add_times(base, configs, rows, make, repeat)

    load_after = bench.load_average()
    plain = rows[0]
    table = [bench.table_row(r, plain) for r in rows]
    print()
    bench.print_table(bench.TABLE_HEADER, table)
    torch_rows = [r for r in rows if r["kind"] == "torch"]
    cairn_rows = [r for r in rows if r["kind"] == "cairn"]
    v = verdicts(torch_rows, cairn_rows, args.time_tolerance)
    v_min = verdicts(torch_rows, cairn_rows, args.time_tolerance, key="seconds_min")
    v["by_min"] = v_min
    print()
    for t, d, m in zip(torch_rows, v["per_torch"], v_min["per_torch"]):
        ratio = "-" if d["time_ratio"] is None else f"{d['time_ratio']:.3f}"
        ratio_min = "-" if m["time_ratio"] is None else f"{m['time_ratio']:.3f}"
        match = [c for c in cairn_rows if c["budget"] == t["predicted"]]
        same = ""
        if match:
            c = match[0]
            same = (f"Cairn at its predicted peak: time {c['seconds'] / t['seconds']:.3f}, "
                    f"measured peak {c['peak_bytes'] / t['peak_bytes']:.3f}, plan cost "
                    f"{c['plan_cost'] / t['plan_cost']:.3f}; ")
        print(f"  {d['torch']}: {same}fastest Cairn at no more measured memory: {d['cairn']}, "
              f"time ratio {ratio} (fastest rounds: {m['cairn']}, {ratio_min})")
    tol = f"{args.time_tolerance:.0%}"
    print(f"Verdict: Cairn's time <= torch's at every torch memory: "
          f"{'yes' if v['time_holds'] else 'NO'} ({v['time_loose']} of {v['time_total']} within "
          f"{tol} timing noise, {v['time_strict']} strictly)")
    print(f"         the same by the fastest round instead of the median: "
          f"{'yes' if v_min['time_holds'] else 'NO'} ({v_min['time_loose']} of "
          f"{v_min['time_total']} within {tol}, {v_min['time_strict']} strictly)")
    least_cairn = bench.mib(v["least_cairn_bytes"])
    print(f"Verdict: Cairn reaches memories torch does not: "
          f"{'yes' if v['reaches_below'] else 'NO'} (least measured peak: Cairn {least_cairn} "
          f"MiB, torch {bench.mib(v['least_torch_bytes'])} MiB)")
    if all("live_peak_bytes" in r for r in rows):
        v_live = verdicts(torch_rows, cairn_rows, args.time_tolerance, memory="live_peak_bytes")
        v["by_live_bytes"] = v_live
        print(f"         both by the live bytes instead of the resident set: time "
              f"{'yes' if v_live['time_holds'] else 'NO'} ({v_live['time_loose']} of "
              f"{v_live['time_total']} within {tol}); below torch "
              f"{'yes' if v_live['reaches_below'] else 'NO'} (Cairn "
              f"{bench.mib(v_live['least_cairn_bytes'])} MiB, torch "
              f"{bench.mib(v_live['least_torch_bytes'])} MiB)")
    planned = planned_verdict(torch_rows, cairn_rows)
    v["planned"] = planned
    print(f"Verdict (planned, the profile's seconds): Cairn's plan cost <= torch's at each torch "
          f"budget: {'yes' if planned['holds'] else 'NO'} (Cairn/torch cost "
          f"{planned['low']:.3f}..{planned['high']:.3f} over {planned['count']} budgets)")
    top = max(cairn_rows, key=lambda r: r["budget"]) if cairn_rows else None
    if top is not None and top["budget"] >= prof["store_all"].peak_bytes:
        v["executor_over_plain"] = top["seconds"] / plain["seconds"]
        how = ("runs as plain autograd" if top.get("runs_plain") else "Cairn's executor")
        print(f"Cairn at the store-all budget ({how}; plan cost "
              f"{top['plan_cost'] / plain['plan_cost']:.3f}x store-all's): "
              f"{v['executor_over_plain']:.3f}x plain autograd's measured time")
    ratios = [r["measured_over_predicted"] for r in rows if r["measured_over_predicted"]]
    live = [r["live_peak_bytes"] / r["predicted"] for r in rows if r.get("live_peak_bytes")]
    if live:
        print(f"live/predicted peak: {min(live):.3f}..{max(live):.3f}")
    print(f"measured/predicted peak: {min(ratios):.3f}..{max(ratios):.3f}; max gradient error "
          f"{max(r['grad_rel_error'] for r in rows):.1e}; {time.perf_counter() - began:.0f} s; "
          f"load average before {load_before}, after {load_after}; peak by "
          f"{rows[0].get('peak_method')}")
    bench.write_json(args.json, dict(benchmark=NAME, args=vars(args), size=base["size"],
                                     layers=n, least_budget=prof["least"], rows=rows,
                                     verdicts=v, load_before=load_before, load_after=load_after))
    note = bench.plot_curves(args.plot, f"{NAME}: {n} layers, {args.dtype} on {args.device}", [
        dict(label="torch checkpoint_sequential (s segments)", style="s-",
             points=[(r["peak_bytes"], r["seconds"], r["segments"]) for r in torch_rows]),
        dict(label="cairn checkpoint_sequential (budget sweep)", style="o-",
             points=[(r["peak_bytes"], r["seconds"], "") for r in cairn_rows]),
        dict(label="plain autograd", style="k*",
             points=[(plain["peak_bytes"], plain["seconds"], "")])])
    if note:
        print(note)
    elif args.plot:
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    sys.exit(main())
