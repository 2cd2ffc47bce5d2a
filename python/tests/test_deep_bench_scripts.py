"""bench/python/deep_chain.py and bench/python/unet.py end to end on tiny sizes (--quick): every
configuration runs, its gradients match plain autograd, its peak is measured and predicted, the
verdicts and the JSON and plot files are written; --device cuda without a device skips (77)."""
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys

import pytest

pytest.importorskip("torch", reason="PyTorch is not installed (Debian: python3-torch)")
import torch  # noqa: E402

import cairn  # noqa: E402

SOURCE = os.environ.get("CAIRN_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BENCH = os.path.join(SOURCE, "bench", "python")
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def run(script, *args):
    done = subprocess.run([sys.executable, os.path.join(BENCH, script), *args],
                          capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout + done.stderr


def test_deep_chain_quick(tmp_path):
    out_json, out_png = tmp_path / "chain.json", tmp_path / "chain.png"
    rc, out = run("deep_chain.py", "--quick", "--in-process", "--json", str(out_json), "--plot",
                  str(out_png))
    assert rc == 0, out
    assert "Verdict: Cairn's time <= torch's at every torch memory:" in out, out
    assert "Verdict: Cairn reaches memories torch does not:" in out, out
    assert "measured/predicted peak:" in out, out
    doc = json.loads(out_json.read_text())
    kinds = [r["kind"] for r in doc["rows"]]
    assert kinds[0] == "plain" and "torch" in kinds and "cairn" in kinds, kinds
    segments = [r["segments"] for r in doc["rows"] if r["kind"] == "torch"]
    assert 1 in segments and round(math.sqrt(doc["layers"])) in segments, segments
    budgets = [r["budget"] for r in doc["rows"] if r["kind"] == "cairn"]
    assert min(budgets) < min(r["predicted"] for r in doc["rows"] if r["kind"] == "torch")
    for r in doc["rows"]:
        assert r["grad_rel_error"] <= 1e-6, r  # recomputation repeats the same operations
        assert r["seconds"] > 0 and len(r["seconds_all"]) == 2, r
        assert r["predicted"] > 0 and r["peak_bytes"] >= 0, r
        if r["kind"] == "cairn":  # the executor holds what the plan predicts, at most
            assert 0 < r["executor_bytes"] <= r["predicted"] <= r["budget"], r
    assert out_png.exists() == HAS_MATPLOTLIB


def test_deep_chain_fresh_processes(tmp_path):
    """The CPU default: each configuration's memory in a process of its own."""
    out_json = tmp_path / "chain.json"
    rc, out = run("deep_chain.py", "--quick", "--segments", "2", "--below", "0", "--json",
                  str(out_json))
    assert rc == 0, out
    rows = json.loads(out_json.read_text())["rows"]
    assert [r["kind"] for r in rows] == ["plain", "torch", "cairn"], rows
    for r in rows:
        assert r["peak_method"] == "VmHWM after clear_refs", r
        assert r["peak_bytes"] > 0 and r["grad_rel_error"] <= 1e-6, r
        if shutil.which("cc") or shutil.which("gcc"):  # _live_bytes.c was preloaded
            assert r["live_peak_bytes"] > 0, r
        if r["kind"] == "cairn":  # the step's allocations include what the executor holds
            assert r["live_peak_bytes"] >= r["executor_bytes"], r


def test_unet_quick(tmp_path):
    out_json = tmp_path / "unet.json"
    rc, out = run("unet.py", "--quick", "--in-process", "--json", str(out_json))
    assert rc == 0, out
    doc = json.loads(out_json.read_text())
    labels = [r["label"] for r in doc["rows"]]
    assert labels[:4] == ["plain autograd", "store_all", "structure_aware", "segments"], labels
    for r in doc["rows"]:
        assert r["grad_rel_error"] <= 1e-6, r
        assert r["predicted"] > 0, r
    optimal = [r for r in doc["rows"] if r["kind"] == "optimal"]
    if cairn.HAS_MILP:
        assert optimal and all(r["method"].startswith("milp") for r in optimal), labels
        assert "Verdict: the optimal plan reaches memories no baseline does (measured peak):" \
            in out, out
    if not optimal:
        assert "Verdict: no optimal plan measured:" in out, out


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
@pytest.mark.parametrize("script", ["deep_chain.py", "unet.py"])
def test_skips_without_cuda(script):
    rc, out = run(script, "--quick", "--device", "cuda")
    assert rc == 77, out
    assert out.strip().startswith(f"{script[:-3]}: skipped: no CUDA device"), out
    assert len(out.strip().splitlines()) == 1
