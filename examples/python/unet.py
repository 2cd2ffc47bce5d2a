"""A small U-Net trained through cairn.torch.GraphModule: its blocks and skip connections are
declared, and the plan for a memory budget (the MILP where cairn has CBC, otherwise the cheapest
baseline that fits) is executed; an identical copy trains with plain autograd, with the same
losses. Prints the executor's activation bytes and the time per step for both.

    PYTHONPATH=build/python python3 examples/python/unet.py --levels 4 --size 32

The last line is a JSON summary (for the smoke test in python/tests/test_examples_deep.py)."""
import argparse
import copy
import json
import sys
import time
import warnings
from typing import List, Tuple

import torch
from torch import nn

import cairn
import cairn.torch


def conv(a: int, b: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(a, b, 3, padding=1), nn.ReLU(), nn.Conv2d(b, b, 3, padding=1),
                         nn.ReLU())


class Down(nn.Module):
    def __init__(self, a: int, b: int) -> None:
        super().__init__()
        self.conv = conv(a, b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(nn.functional.max_pool2d(x, 2))


class Up(nn.Module):
    def __init__(self, a: int, skip: int, b: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(a, a // 2, 2, stride=2)
        self.conv = conv(a // 2 + skip, b)

    def forward(self, deep: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([self.up(deep), skip], dim=1))


def unet(levels: int, width: int) -> List[Tuple[str, nn.Module, List[str]]]:
    """enc0 .. enc{levels-1} going down, dec{levels-2} .. dec0 coming up, each dec reading the
    encoder output of its level through a skip connection."""
    blocks: List[Tuple[str, nn.Module, List[str]]] = [("enc0", conv(1, width), [])]
    for k in range(1, levels):
        blocks.append((f"enc{k}", Down(width << (k - 1), width << k), [f"enc{k - 1}"]))
    deep = f"enc{levels - 1}"
    for k in range(levels - 2, -1, -1):
        blocks.append((f"dec{k}", Up(width << (k + 1), width << k, width << k), [deep, f"enc{k}"]))
        deep = f"dec{k}"
    blocks.append(("head", nn.Conv2d(width, 1, 1), [deep]))
    return blocks


def train(net, forward, images, targets, steps):
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    losses, seconds = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(forward(images), targets)
        loss.backward()
        opt.step()
        seconds.append(time.perf_counter() - t0)
        losses.append(float(loss))
    return losses, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", type=int, default=3)
    parser.add_argument("--width", type=int, default=4)
    parser.add_argument("--size", type=int, default=16, help="image side, a multiple of 2^levels")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--fraction", type=float, default=0.7,
                        help="budget as a fraction of store-all's peak (raised to the least "
                             "budget the planner meets where below it)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.levels < 2 or args.size % (1 << (args.levels - 1)):
        parser.error("--levels must be >= 2 and --size a multiple of 2^(levels - 1)")
    if not 0 < args.fraction <= 1:
        parser.error("--fraction must be in (0, 1]")

    torch.manual_seed(args.seed)
    blocks = [(n, m.double(), i) for n, m, i in unet(args.levels, args.width)]
    twin = copy.deepcopy(blocks)
    gen = torch.Generator().manual_seed(args.seed + 1)
    images = torch.randn(args.batch, 1, args.size, args.size, dtype=torch.float64, generator=gen)
    targets = images.flip(-1)

    plain = cairn.torch.GraphModule(twin, planner="store_all", debug_memory=True)
    store_all = plain.plan_for(images)
    memory = int(args.fraction * store_all.predicted_peak_bytes)
    # The least budget the planner meets depends on the profiled sizes of this machine: below
    # it, plan for it instead (and say so).
    graph = store_all.graph
    least = (int(cairn.milp_min_budget(graph)) if cairn.HAS_MILP else
             min(int(cairn.plan_structure_aware(graph).peak_bytes),
                 int(cairn.plan_segments(graph, 0).peak_bytes)))
    if memory < least:
        print(f"note: {memory} B ({args.fraction} of store-all's peak) is below the least budget "
              f"the planner meets, {least} B; planning for that")
        memory = least
    net = cairn.torch.GraphModule(blocks, memory=memory, debug_memory=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan = net.plan_for(images)
    for w in caught:
        print(f"note: {w.message}")

    # The twin trains with plain autograd (its blocks called in order, every tape kept)...
    plain_losses, plain_s = train(plain, plain.program.run_plain, images, targets, args.steps)
    cairn_losses, cairn_s = train(net, net, images, targets, args.steps)
    # ... and one step of store-all's plan through the executor counts what that keeps.
    plain(images).sum().backward()
    print(f"U-Net, {args.levels} levels, {len(blocks)} blocks, {args.batch} images "
          f"{args.size}x{args.size}, float64; plan {plan.plan.method} "
          f"(optimal: {plan.plan.optimal}), budget {memory} B")
    print(f"{'':>16} {'peak bytes':>12} {'predicted':>12} {'s/step':>9} {'final loss':>22}")
    for name, p, s, losses in (("plain autograd", store_all, plain_s, plain_losses),
                               ("cairn", plan, cairn_s, cairn_losses)):
        print(f"{name:>16} {p.measured_peak_bytes:>12} {p.predicted_peak_bytes:>12} "
              f"{min(s):>9.4f} {losses[-1]:>22.17g}")
    ratio = plan.plan.cost / cairn.plan_store_all(plan.graph).cost  # one profile for both
    print(f"recomputation: plan cost / store-all cost = {ratio:.3f}")
    print(json.dumps({"plain_losses": plain_losses, "cairn_losses": cairn_losses,
                      "method": plan.plan.method, "budget_bytes": memory,
                      "predicted_peak_bytes": plan.predicted_peak_bytes,
                      "measured_peak_bytes": plan.measured_peak_bytes,
                      "store_all_peak_bytes": store_all.predicted_peak_bytes,
                      "store_all_measured_bytes": store_all.measured_peak_bytes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
