"""A deep MLP chain of unequal widths trained with cairn.torch.checkpoint_sequential within a
memory budget, beside plain autograd on an identical copy: the losses agree to the last digit,
and the activation memory (outputs, autograd tapes and gradients, as cairn's executor counts the
storages it holds) and the time per step are printed for both.

    PYTHONPATH=build/python python3 examples/python/deep_chain.py --layers 80 --fraction 0.2

The last line is a JSON summary (for the smoke test in python/tests/test_examples_deep.py)."""
import argparse
import copy
import json
import sys
import time

import torch

import cairn
import cairn.torch


def make_chain(layers: int, seed: int) -> torch.nn.Sequential:
    gen = torch.Generator().manual_seed(seed)
    widths = [int(w) for w in torch.randint(16, 257, (layers + 1,), generator=gen)]
    widths[-1] = 8
    torch.manual_seed(seed)
    blocks = [torch.nn.Sequential(torch.nn.Linear(a, b), torch.nn.Tanh())
              for a, b in zip(widths, widths[1:])]
    return torch.nn.Sequential(*blocks).double()


def train(model, data, target, steps, step_fn):
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    losses, seconds = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(step_fn(model, data), target)
        loss.backward()
        opt.step()
        seconds.append(time.perf_counter() - t0)
        losses.append(float(loss))
    return losses, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=40)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--fraction", type=float, default=0.25,
                        help="budget as a fraction of store-all's peak (raised to the least)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.layers < 1 or args.batch < 1 or args.steps < 1:
        parser.error("--layers, --batch and --steps must be >= 1")
    if not 0 <= args.fraction <= 1:
        parser.error("--fraction must be in [0, 1]")

    model = make_chain(args.layers, args.seed)
    twin = copy.deepcopy(model)
    gen = torch.Generator().manual_seed(args.seed + 1)
    width_in = model[0][0].in_features
    data = torch.randn(args.batch, width_in, dtype=torch.float64, generator=gen)
    target = torch.randn(args.batch, 8, dtype=torch.float64, generator=gen)

    least = cairn.torch.plan_sequential(model, data, slots=0)
    store_all = cairn.plan_store_all(least.graph)
    memory = max(least.least_bytes, int(args.fraction * store_all.peak_bytes))
    t0 = time.perf_counter()
    plan = cairn.torch.plan_sequential(model, data, memory=memory)
    plan_seconds = time.perf_counter() - t0

    def planned(m, x):
        return cairn.torch.checkpoint_sequential(m, x, memory=memory)

    plain_losses, plain_s = train(twin, data, target, args.steps, lambda m, x: m(x))
    cairn_losses, cairn_s = train(model, data, target, args.steps, planned)
    # One more step of each counted by the executor (debug mode): the bytes it really holds. At
    # store-all's budget the plan is plain autograd's own (runs_plain), replayed for the count.
    everything = cairn.torch.plan_sequential(model, data, memory=int(store_all.peak_bytes))
    for budget in (memory, int(store_all.peak_bytes)):
        cairn.torch.checkpoint_sequential(model, data, memory=budget,
                                          debug_memory=True).sum().backward()

    f = sum(p.forward_seconds for p in plan.profile)
    b = sum(p.backward_seconds for p in plan.profile)
    print(f"chain of {args.layers} layers, widths {model[0][0].in_features}..., batch "
          f"{args.batch}, float64; profile: forward {f * 1e3:.2f} ms, backward {b * 1e3:.2f} ms")
    print(f"least budget {least.least_bytes} B, store-all peak {store_all.peak_bytes} B, budget "
          f"{memory} B; plan {plan.plan.method} ({len(plan.plan)} actions, planned in "
          f"{plan_seconds * 1e3:.1f} ms incl. the profile's cache hit)")
    print(f"{'':>16} {'peak bytes':>12} {'predicted':>12} {'s/step':>9} {'final loss':>22}")
    print(f"{'plain autograd':>16} {everything.measured_peak_bytes:>12} "
          f"{everything.predicted_peak_bytes:>12} "
          f"{min(plain_s):>9.4f} {plain_losses[-1]:>22.17g}")
    print(f"{'cairn':>16} {plan.measured_peak_bytes:>12} {plan.predicted_peak_bytes:>12} "
          f"{min(cairn_s):>9.4f} {cairn_losses[-1]:>22.17g}")
    print(f"recomputation: plan cost / store-all cost = {plan.plan.cost / store_all.cost:.3f}")
    print(json.dumps({"plain_losses": plain_losses, "cairn_losses": cairn_losses,
                      "budget_bytes": memory, "predicted_peak_bytes": plan.predicted_peak_bytes,
                      "measured_peak_bytes": plan.measured_peak_bytes,
                      "store_all_peak_bytes": int(store_all.peak_bytes),
                      "store_all_measured_bytes": everything.measured_peak_bytes,
                      "plain_seconds": min(plain_s), "cairn_seconds": min(cairn_s)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
