"""Peak memory of a gradient through T = 10^3, 10^4, 10^5 steps with 20 checkpoints is flat,
where plain autograd's grows with T. Each measurement runs in a fresh process
(odeint_memory_probe.py) and reads its peak resident set size."""
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch", reason="PyTorch is not installed (Debian: python3-torch)")

PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "odeint_memory_probe.py")


def peak(steps: int, *mode: str) -> dict:
    out = subprocess.run([sys.executable, PROBE, str(steps), *mode], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def test_checkpointed_peak_memory_is_flat_and_autograd_grows():
    cairn = {T: peak(T, "cairn", "20") for T in (10**3, 10**4, 10**5)}
    autograd = {T: peak(T, "autograd") for T in (10**3, 10**4)}
    small, large = cairn[10**3]["peak_kib"], cairn[10**5]["peak_kib"]
    assert large <= 1.10 * small, f"checkpointed peak grew: {cairn}"
    # Autograd keeps every step's graph: 64 x (2 + 16 + 16 + 2) doubles and more per Euler step,
    # so 9,000 more steps hold 9000 * 18 KiB = 158 MiB more (asserted: two thirds of it).
    growth = autograd[10**4]["peak_kib"] - autograd[10**3]["peak_kib"]
    assert growth >= 9000 * 12, f"autograd's peak did not grow as expected: {autograd}"
    assert autograd[10**4]["peak_kib"] > 1.3 * cairn[10**5]["peak_kib"]
