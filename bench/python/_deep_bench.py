"""What bench/python/deep_chain.py and bench/python/unet.py share: running one configuration in
a fresh process, measuring its peak memory and its time per training step, checking its
gradients, and printing, saving and plotting the results.

Peak memory, measured (the planners' prediction is printed beside it, never in its place):
  CPU   the peak resident set (VmHWM in /proc/self/status) during one training step minus the
        resident set just before it, in a process of its own. Two things make the resident set
        a poor measure of live tensors, and both are dealt with here:
          - it only grows: the peak is reset before the measured step by writing 5 to
            /proc/self/clear_refs (Linux >= 4.0); where that is refused, the process measures
            its first full-size step instead (after a warm-up on a batch of one, which loads the
            libraries without touching the peak), and says so;
          - glibc keeps freed memory in its heap, so the step would reuse pages already
            counted before it: the memory process runs with MALLOC_MMAP_THRESHOLD_ fixed (which
            also stops the threshold from growing with the blocks freed), so that a tensor
            above it that no free heap chunk can hold gets a mapping of its own, returned when
            freed; and malloc_trim(0) just before the step returns the pages of the heap's free
            chunks, so that a tensor placed in one is counted when it touches them. The heap's
            free chunks that the step touches stay counted after the step frees them: the
            measure can exceed the live bytes by that much, never fall below them.
        That setting makes every allocation a system call, so no time is measured there.
        Beside it, the live bytes: _live_bytes.c, built with the system's C compiler and
        preloaded into the memory process, counts what malloc has handed out and not got back
        and its peak over the step (the CPU's max_memory_allocated; "-" where it cannot be
        built). The resident set can exceed it by the pages of freed heap chunks; it cannot
        exceed the resident set by more than the pages a chunk spans but never touches.
  CUDA  torch.cuda.max_memory_allocated() after reset_peak_memory_stats(), minus the memory
        allocated before the step: exact and resettable, so every configuration is measured in
        the one process.
Both count what the step allocates beyond the parameters, their gradient buffers (allocated by a
warm-up step, zeroed in place, never freed) and the batch: what the planners' model counts.

Time: in the parent process with the default allocator, the configurations interleaved (each of
--repeat rounds times one step of each in turn, so that the load of a shared machine falls on all
alike); the median over the rounds after a warm-up step (forward, loss and backward; synchronized
on CUDA). In each round a configuration runs one untimed step just before its timed one, as in a
training loop, where the step before is the same one: glibc's malloc adapts its mmap and trim
thresholds to what was freed last, and a step timed right after another configuration's paid for
that configuration's pattern (on the CPU U-Net, one plan timed 1.08-1.33x slower than the same
action stream under another configuration's name, because of its place in the round).
Gradients: every configuration's gradients (parameters and input) against plain autograd on the
same model and batch in the same process, as max |g - g_ref| / max |g_ref| over all of them.
"""
import argparse
import atexit
import ctypes
import importlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

SKIP = 77
# Every allocation above this many bytes gets its own mapping in the memory process (16 KiB:
# the smallest tensors of the benchmarks are larger; anything below is the interpreter's).
MMAP_THRESHOLD = 16384
CHILD_MARK = "DEEP_BENCH_RESULT "
# Untimed steps of a configuration just before each of its timed ones (the module's docstring
# says why).
SETTLE_STEPS = 1


def common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (the smoke test)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="timed steps per configuration (median; default 5, 2 with --quick)")
    parser.add_argument("--json", metavar="FILE", help="write every result to FILE as JSON")
    parser.add_argument("--plot", metavar="FILE.png", help="memory vs time plot (matplotlib)")
    parser.add_argument("--in-process", action="store_true",
                        help="measure memory in this process too (default on CUDA; on the CPU the "
                             "resident-set peaks are then not per configuration)")
    parser.add_argument("--child", help=argparse.SUPPRESS)


def skip(script: str, message: str) -> None:
    print(f"{script}: skipped: {message}", flush=True)
    sys.exit(SKIP)


# ---- the process that runs one configuration -------------------------------------------------

def _status_bytes(key: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {key}")


def _trim_heap() -> None:
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to return
        pass


def _live_counter() -> Optional[Any]:
    """The preloaded _live_bytes.c, if this process has it."""
    try:
        lib = ctypes.CDLL(None)
        lib.live_bytes_peak.restype = ctypes.c_size_t
        lib.live_bytes_now.restype = ctypes.c_size_t
    except (OSError, AttributeError):
        return None
    return lib


def reset_peak_rss() -> bool:
    """Sets VmHWM to the current resident set; False where the kernel refuses. Tried up to three
    times: a page returned between the reset and the reading of VmRSS (another thread, the
    collector) makes one reading look like a refusal (seen once in a parallel ctest run)."""
    for _ in range(3):
        try:
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")
        except OSError:
            return False
        if _status_bytes("VmHWM") <= _status_bytes("VmRSS") + 65536:
            return True
    return False


class Workload:
    """What a script gives run_config() for one configuration."""

    def __init__(self, torch: Any, device: str, parameters: Sequence[Any], batch: Any,
                 step: Callable[[Any], Any], reference: Callable[[Any], Any],
                 small_batch: Optional[Any] = None, info: Optional[Dict[str, Any]] = None,
                 after: Optional[Callable[[], Dict[str, Any]]] = None):
        self.torch = torch
        self.device = device
        self.parameters = list(parameters)
        self.batch = batch                # requires grad: its gradient is checked too
        self.step = step                  # step(batch): forward, loss, backward
        self.reference = reference        # the same by plain autograd
        self.small_batch = small_batch    # warm-up without touching the peak (CPU fallback)
        self.info = dict(info or {})      # e.g. the plan's predicted peak, filled by the script
        self.after = after                # more results, after the memory was measured


def _zero_grads(work: Workload) -> None:
    for tensor in work.parameters + [work.batch]:
        if tensor.grad is None:
            tensor.grad = work.torch.zeros_like(tensor)
        else:
            tensor.grad.zero_()


def _grads(work: Workload) -> List[Any]:
    return [tensor.grad.detach().clone() for tensor in work.parameters + [work.batch]]


def _sync(work: Workload) -> None:
    if work.device == "cuda":
        work.torch.cuda.synchronize()


def measure_memory(work: Workload) -> Dict[str, Any]:
    """Peak bytes of one step beyond what is held before it, and the gradient error."""
    torch = work.torch
    out: Dict[str, Any] = {}
    _zero_grads(work)
    if work.device == "cuda":
        work.step(work.batch)  # warm-up: plans, profiles, cuDNN choices
        _zero_grads(work)
        _sync(work)
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        work.step(work.batch)
        _sync(work)
        out["peak_bytes"] = torch.cuda.max_memory_allocated() - before
        out["peak_method"] = "cuda max_memory_allocated"
    else:
        if reset_peak_rss():
            work.step(work.batch)
            _zero_grads(work)
            _trim_heap()
            reset_peak_rss()
            out["peak_method"] = "VmHWM after clear_refs"
        else:
            if work.small_batch is not None:
                work.step(work.small_batch)
                _zero_grads(work)
            _trim_heap()
            out["peak_method"] = "VmHWM of the first full step"
        live = _live_counter()
        if live is not None:
            live.live_bytes_reset_peak()
            live_before = live.live_bytes_now()
        before = _status_bytes("VmRSS")
        work.step(work.batch)
        out["peak_bytes"] = _status_bytes("VmHWM") - before
        if live is not None:
            out["live_peak_bytes"] = live.live_bytes_peak() - live_before
    grads = _grads(work)
    _zero_grads(work)
    work.reference(work.batch)
    reference = _grads(work)
    scale = max(float(g.abs().max()) for g in reference)
    error = max(float((g - r).abs().max()) for g, r in zip(grads, reference))
    out["grad_rel_error"] = error / scale if scale > 0 else error
    if work.after is not None:
        out.update(work.after())
    return out


def child_main(spec_text: str, make: Callable[[Dict[str, Any]], Workload]) -> None:
    """The body of `script --child SPEC`: the memory of one configuration, one JSON line out."""
    spec = json.loads(spec_text)
    work = make(spec)
    result = measure_memory(work)
    result.update(work.info)
    print(CHILD_MARK + json.dumps(result), flush=True)


# ---- the parent -------------------------------------------------------------------------------

_SHIM: Dict[str, Optional[str]] = {}


def live_bytes_library() -> Optional[str]:
    """_live_bytes.c built once per run (None where there is no C compiler or it fails)."""
    if "path" not in _SHIM:
        folder = tempfile.mkdtemp(prefix="deep_bench_")
        atexit.register(shutil.rmtree, folder, True)
        path = os.path.join(folder, "live_bytes.so")
        source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_live_bytes.c")
        compiler = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
        ok = compiler is not None and sys.platform.startswith("linux") and subprocess.run(
            [compiler, "-O2", "-shared", "-fPIC", "-o", path, source],
            capture_output=True).returncode == 0
        _SHIM["path"] = path if ok else None
    return _SHIM["path"]


def memory_of(script: str, spec: Dict[str, Any], in_process: bool,
              make: Callable[[Dict[str, Any]], Workload]) -> Dict[str, Any]:
    """Peak memory and gradient error of one configuration: in this process (CUDA), or in a
    fresh one with the allocator set as the module's docstring says."""
    if in_process:
        work = make(spec)
        result = measure_memory(work)
        result.update(work.info)
        return result
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(MMAP_THRESHOLD))
    shim = live_bytes_library()
    if shim:
        env["LD_PRELOAD"] = " ".join(filter(None, [shim, env.get("LD_PRELOAD")]))
    command = [sys.executable, script, "--child", json.dumps(spec)]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith(CHILD_MARK)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{spec.get('label')}: the memory process failed "
                           f"(exit {done.returncode}):\n{done.stdout}{done.stderr}")
    return json.loads(lines[-1][len(CHILD_MARK):])


def times_of(specs: Sequence[Dict[str, Any]], make: Callable[[Dict[str, Any]], Workload],
             repeat: int) -> List[Dict[str, Any]]:
    """Seconds per training step of every configuration, in this process, interleaved: each
    round times one step of each configuration in turn (after SETTLE_STEPS untimed ones of the
    same), so that a change in the machine's load (it is shared) falls on all of them alike; the
    median over the rounds, after a warm-up."""
    works = [make(spec) for spec in specs]
    for work in works:
        _zero_grads(work)
        work.step(work.batch)
    seconds: List[List[float]] = [[] for _ in works]
    for _ in range(repeat):
        for work, out in zip(works, seconds):
            for _ in range(SETTLE_STEPS):
                _zero_grads(work)
                work.step(work.batch)
            _zero_grads(work)
            _sync(work)
            start = time.perf_counter()
            work.step(work.batch)
            _sync(work)
            out.append(time.perf_counter() - start)
    return [{"seconds": statistics.median(s), "seconds_min": min(s), "seconds_all": s}
            for s in seconds]


def require_torch_and_cairn(script: str, device: str) -> None:
    """Skips (exit SKIP) unless torch imports, the device exists and the cairn package with its
    PyTorch layer imports: what both benchmarks need before they measure anything."""
    try:
        import torch
    except ImportError:
        skip(script, "PyTorch is not installed")
    if device == "cuda" and not torch.cuda.is_available():
        skip(script, "no CUDA device (torch.cuda.is_available() is False)")
    try:
        importlib.import_module("cairn.torch")
    except ImportError as e:
        skip(script, f"the cairn package is not importable ({e}); PYTHONPATH=build/python")


def measure_memories(script: str, base: Dict[str, Any], configs: Sequence[Dict[str, Any]],
                     in_process: bool,
                     make: Callable[[Dict[str, Any]], Workload]) -> List[Dict[str, Any]]:
    """One row per configuration: its memory (memory_of, printed as it comes), the
    configuration's fields, and the planner's prediction where the run made a plan (it replaces
    the configuration's own)."""
    rows = []
    for config in configs:
        spec = dict(base, config=config, label=config["label"])
        result = memory_of(script, spec, in_process, make)
        result.update(config)
        if "predicted_bytes" in result:
            result["predicted"] = result["predicted_bytes"]
        rows.append(result)
        print(f"  {spec['label']}: {mib(result['peak_bytes'])} MiB measured, "
              f"{mib(result['predicted'])} MiB predicted", flush=True)
    return rows


def add_times(base: Dict[str, Any], configs: Sequence[Dict[str, Any]],
              rows: Sequence[Dict[str, Any]], make: Callable[[Dict[str, Any]], Workload],
              repeat: int) -> None:
    """The times of each configuration (times_of, all interleaved) into its row."""
    specs = [dict(base, config=c, label=c["label"]) for c in configs]
    print(f"  timing {len(specs)} configurations, {repeat} interleaved rounds", flush=True)
    for result, timed in zip(rows, times_of(specs, make, repeat)):
        result.update(timed)


def measure_configs(script: str, base: Dict[str, Any], configs: Sequence[Dict[str, Any]],
                    in_process: bool, make: Callable[[Dict[str, Any]], Workload],
                    repeat: int) -> List[Dict[str, Any]]:
    """measure_memories, then add_times."""
    rows = measure_memories(script, base, configs, in_process, make)
    add_times(base, configs, rows, make, repeat)
    return rows


TABLE_HEADER = ["configuration", "budget MiB", "predicted MiB", "measured MiB", "live MiB",
                "meas/pred", "plan cost ms", "ms/step", "min ms", "x plain", "grad rel err",
                "executor MiB", "plan"]


def table_row(r: Dict[str, Any], plain: Dict[str, Any]) -> List[str]:
    """A row of TABLE_HEADER; sets r["measured_over_predicted"] (None without a prediction)."""
    ratio = r["peak_bytes"] / r["predicted"] if r.get("predicted") else None
    r["measured_over_predicted"] = ratio
    cost = r.get("plan_cost")
    return [r["label"], mib(r.get("budget")), mib(r.get("predicted")), mib(r["peak_bytes"]),
            mib(r.get("live_peak_bytes")), "-" if ratio is None else f"{ratio:.3f}",
            "-" if cost is None else f"{cost * 1e3:.1f}", f"{r['seconds'] * 1e3:.1f}",
            f"{r['seconds_min'] * 1e3:.1f}", f"{r['seconds'] / plain['seconds']:.2f}",
            f"{r['grad_rel_error']:.1e}", mib(r.get("executor_bytes")), r.get("method", "-")]


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def mib(n: Optional[float]) -> str:
    return "-" if n is None else f"{n / 2**20:.2f}"


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:>{w}}}" for w in widths)
    print(line.format(*header))
    for row in rows:
        print(line.format(*row))


def write_json(path: Optional[str], document: Dict[str, Any]) -> None:
    if path:
        with open(path, "w") as out:
            json.dump(document, out, indent=1)
            out.write("\n")


def plot_curves(path: Optional[str], title: str,
                curves: Sequence[Dict[str, Any]]) -> Optional[str]:
    """curves: {"label", "points": [(peak bytes, seconds, annotation)], "style"}. Returns why
    nothing was drawn, or None."""
    if not path:
        return None
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: no plot"
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for curve in curves:
        points = sorted(curve["points"])
        if not points:
            continue
        xs = [p[0] / 2**20 for p in points]
        ys = [p[1] * 1e3 for p in points]
        ax.plot(xs, ys, curve.get("style", "o-"), label=curve["label"])
        for x, y, p in zip(xs, ys, points):
            if len(p) > 2 and p[2]:
                ax.annotate(str(p[2]), (x, y), textcoords="offset points", xytext=(3, 4),
                            fontsize=7)
    ax.set_xlabel("peak memory of a training step, measured (MiB)")
    ax.set_ylabel("time per training step (ms, median)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None
