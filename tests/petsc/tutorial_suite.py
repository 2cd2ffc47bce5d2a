#!/usr/bin/python3
"""PETSc's TSAdjoint tutorials, unmodified, against the TSTrajectory type cairn.

Finds every tutorial under PETSc's src/ts/tutorials (Debian: libpetsc3.18-dev-examples) that calls
TSAdjointSolve, compiles it once (cached by mtime), expands its /*TEST ... TEST*/ block into
variants and runs each variant

  * as PETSc's test does (the reference: its own trajectory type, `memory` or the default `basic`;
    revolve/CAMS-only options of `memory`, which Debian's PETSc lacks, are dropped, leaving memory's
    store-all), and
  * with -dll_append PLUGIN -ts_trajectory_type cairn under three budgets (ram, disk, online),
    the variant's own trajectory type and memory-type options removed.

Every run appends `-ts_adjoint_view_solution binary:FILE::append` (PETSc 3.18's TSAdjointSolve
views the first adjoint vector, lambda_0, with that option), so lambda_0 of every TSAdjointSolve is
compared byte for byte, and the stdout of each cairn run is compared with the reference's, after
the short, explicit filter list below.

Classes: match, text-only (no lambda_0 written), consistent (differs from the reference, but the
budgets agree with each other bit for bit: for a reference that is itself wrong), differs, refused
(a `cairn:` error), failed, skipped. The expectations file says what each run gives today; the
exit status is 1 on a regression (a run expected to match that does not, or a new differs/failed),
and improvements are noticed.
Standard library only; run with /usr/bin/python3.
"""
import argparse
import difflib
import fnmatch
import json
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

BUDGETS = {
    "ram": ["-ts_trajectory_max_cps_ram", "3"],
    "disk": ["-ts_trajectory_max_cps_ram", "2", "-ts_trajectory_max_cps_disk", "3"],
    "online": ["-ts_trajectory_max_cps_ram", "3", "-ts_trajectory_cairn_online"],
}
CLASSES = ["match", "text-only", "consistent", "differs", "refused", "failed", "skipped"]

# Options that choose or tune the trajectory's storage: removed from the cairn runs (which set
# their own type and budget). The value says whether the option takes a value: True always, None
# an optional boolean (a following 0/1/true/false/yes/no is its value).
STORAGE_OPTIONS = {
    "-ts_trajectory_type": True,
    "-ts_trajectory_max_cps_ram": True,
    "-ts_trajectory_max_cps_disk": True,
    "-ts_trajectory_max_units_ram": True,
    "-ts_trajectory_max_units_disk": True,
    "-ts_trajectory_memory_type": True,
    "-ts_trajectory_stride": True,
    "-ts_trajectory_revolve_online": None,
    "-ts_trajectory_save_stack": None,
    "-ts_trajectory_use_dram": None,
}
# Those of them that only PETSc's revolve or CAMS packages implement: dropped from the reference
# too (Debian's PETSc has neither, and `memory` without them stores every step).
REVOLVE_CAMS_OPTIONS = ["-ts_trajectory_max_cps_ram", "-ts_trajectory_max_cps_disk",
                        "-ts_trajectory_max_units_ram", "-ts_trajectory_max_units_disk",
                        "-ts_trajectory_memory_type", "-ts_trajectory_revolve_online"]
# `requires:` names that the reference can do without (see above): not a reason to skip.
SUBSTITUTED_REQUIRES = {"revolve", "cams"}
BOOL_WORDS = {"0", "1", "true", "false", "yes", "no", "TRUE", "FALSE"}

# The lines that differ by design between a reference run and a cairn run, removed from both
# stdouts before they are compared. Keep this list short; every entry says why it is there.
LINE_FILTERS = [
    # -ts_trajectory_monitor of cairn: one line per action ("cairn: store x_0 in RAM slot 0").
    re.compile(r"^cairn: "),
    # -ts_trajectory_monitor of memory and basic: "TSTrajectorySet: stepnum 3, time 0.003 (stages
    # 0)", "TSTrajectoryGet: stepnum 15, stages 0".
    re.compile(r"^TSTrajectory(Set|Get): stepnum "),
    # PETSc's report of unused options (-options_left): the header lines, and the entries for the
    # trajectory options that only one of the two types reads.
    re.compile(r"^WARNING! (There are options you set that were not used!|"
               r"could be spelling mistake, etc!)"),
    re.compile(r"^There (is one unused database option|are \d+ unused database options)"),
    re.compile(r"^Option left: name:-(ts_trajectory_|dll_append)"),
    # Wall-clock times that a program prints itself (ex5adj_mf: " %.3lf " after its adjoint solve).
    re.compile(r"^ \d+\.\d{3} $"),
    # The last line of -ts_adjoint_monitor (step 0): memory prints the time of x_1 there; basic,
    # PETSc's stored outputs (output/ex5adj_2.out, ex1adj_1.out) and cairn print t_0.
    re.compile(r"^0 TS dt -\S+ time \S+$"),
]
# -ts_trajectory_view (added to every cairn run; memory's too where a variant asks for it): the
# line "TSTrajectory Object: ..." and, right under it, its fields: type, recomputations, disk reads
# and writes, and cairn's "Cairn ..." lines.
VIEW_BLOCK = re.compile(r"^TSTrajectory Object: ")
VIEW_FIELDS = re.compile(r"^\s+(type: |total number of recomputations for adjoint calculation = |"
                         r"disk checkpoint (reads|writes) = |Cairn[ :])")

# Solver monitors (-ksp_monitor, -snes_monitor) also print for the steps that cairn recomputes:
# the cairn stdout may have such lines that the reference lacks, inserted anywhere, but nothing
# else. Every line of the reference must still be there, in order.
SOLVER_MONITOR = re.compile(r"^\s*\d+ (KSP|SNES) (preconditioned |unpreconditioned |true )?"
                            r"(Residual|Function) norm")


def same_but_recomputed(ref, got):
    """(equal, n): whether got is ref with n solver monitor lines inserted."""
    if ref == got:
        return True, 0
    extra = 0
    matcher = difflib.SequenceMatcher(None, ref, got, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag != "insert" or not all(SOLVER_MONITOR.search(x) for x in got[j1:j2]):
            return False, 0
        extra += j2 - j1
    return True, extra


def filtered(text):
    out, in_view = [], False
    for line in text.splitlines():
        if VIEW_BLOCK.search(line):
            in_view = True
            continue
        if in_view and VIEW_FIELDS.search(line):
            continue
        in_view = False
        if not any(f.search(line) for f in LINE_FILTERS):
            out.append(line)
    return out


# ---------------------------------------------------------------- discovery and TEST blocks
def discover(tutorials):
    """Every program that calls TSAdjointSolve. It is named by its file name, or by its folder and
    file name where another tutorial has the same file name (optimal_control/ex1)."""
    programs, names = [], {}
    for root, dirs, files in os.walk(tutorials):
        for name in files:
            if not name.endswith((".c", ".cxx", ".cu", ".F", ".F90")):
                continue
            stem = os.path.splitext(name)[0]
            names[stem] = names.get(stem, 0) + 1
    for root, dirs, files in os.walk(tutorials):
        dirs[:] = sorted(d for d in dirs if d not in ("output", "__pycache__"))
        for name in sorted(files):
            if not name.endswith((".c", ".cxx")):
                continue
            path = os.path.join(root, name)
            with open(path, errors="replace") as f:
                text = f.read()
            if not re.search(r"\bTSAdjointSolve\s*\(", text):
                continue
            block = re.search(r"/\*TEST(.*?)TEST\*/", text, re.S)
            stem = os.path.splitext(name)[0]
            folder = os.path.relpath(root, tutorials)
            programs.append({
                "name": stem if names[stem] == 1 or folder == "." else folder + "/" + stem,
                "stem": stem,
                "rel": os.path.relpath(path, tutorials),
                "dir": root,
                "source": path,
                "block": block.group(1) if block else "",
            })
    return programs


def parse_block(block):
    """PETSc's TEST format: indentation nests `build:`, `test:` and `testset:` blocks; other lines
    are `key: value` (a line without a colon continues the previous value)."""
    root = {"children": [], "kind": "root"}
    stack = [(-1, root)]
    last = None
    for raw in block.splitlines():
        line = raw.split("#", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        m = re.match(r"^\s*([A-Za-z_]+)\s*:\s*(.*)$", line)
        if not m:
            if last is not None:
                last[0][last[1]] += " " + line.strip()
            continue
        key, value = m.group(1), m.group(2).strip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        if key in ("test", "testset", "build") and not value:
            node = {"kind": key, "children": []}
            parent["children"].append(node)
            stack.append((indent, node))
            last = None
        else:
            parent[key] = value
            last = (parent, key)
    return root


def variants_of(program):
    tree = parse_block(program["block"])
    build = next((c for c in tree["children"] if c["kind"] == "build"), {})
    out = []

    def make(nodes):
        suffix = "_".join(n["suffix"] for n in nodes if n.get("suffix"))
        v = {"program": program["name"], "suffix": suffix,
             "name": program["name"] + ("_" + suffix if suffix else ""),
             "args": " ".join(n.get("args", "") for n in nodes).strip(),
             "nsize": 1, "requires": build.get("requires", ""),
             "depends": build.get("depends", ""), "output_file": None,
             "filter": None, "localrunfiles": ""}
        for n in nodes:
            if "nsize" in n:
                v["nsize"] = int(n["nsize"])
            for key in ("output_file", "filter", "localrunfiles"):
                if key in n:
                    v[key] = n[key]
            if "requires" in n:
                v["requires"] = (v["requires"] + " " + n["requires"]).strip()
        if v["output_file"] is None:
            v["output_file"] = "output/%s_%s.out" % (program["stem"], suffix or "1")
        return v

    for node in tree["children"]:
        if node["kind"] == "test":
            out.append(make([node]))
        elif node["kind"] == "testset":
            subs = [c for c in node["children"] if c["kind"] == "test"]
            for sub in subs or [None]:
                out.append(make([node] + ([sub] if sub else [])))
    if not out:  # a program without a TEST block: one default variant
        out.append(make([{}]))
    return build, out


# ---------------------------------------------------------------- requires:
class Config:
    def __init__(self, petscconf):
        with open(petscconf) as f:
            self.defines = set(re.findall(r"^#define\s+(\w+)", f.read(), re.M))

    def has(self, word):
        if word.startswith("defined(") and word.endswith(")"):
            return word[8:-1] in self.defines
        if word == "complex":
            return "PETSC_USE_COMPLEX" in self.defines
        if word in ("single", "double", "__float128", "__fp16"):
            name = {"single": "SINGLE", "double": "DOUBLE", "__float128": "__FLOAT128",
                    "__fp16": "__FP16"}[word]
            return "PETSC_USE_REAL_" + name in self.defines
        if word in ("cxx", "c++"):
            return "PETSC_HAVE_CXX" in self.defines
        return "PETSC_HAVE_" + word.upper() in self.defines

    def unmet(self, requires):
        """The `requires:` words that this PETSc does not satisfy (revolve and cams excepted)."""
        missing = []
        for word in requires.split():
            negate = word.startswith("!")
            bare = word[1:] if negate else word
            if bare in SUBSTITUTED_REQUIRES and not negate:
                continue
            if self.has(bare) == negate:
                missing.append(word)
        return missing


# ---------------------------------------------------------------- arguments
def drop_options(args, names):
    out, i = [], 0
    while i < len(args):
        a = args[i]
        if a in names:
            takes = STORAGE_OPTIONS.get(a, True)
            i += 1
            if takes is True and i < len(args):
                i += 1
            elif takes is None and i < len(args) and args[i] in BOOL_WORDS:
                i += 1
            continue
        out.append(a)
        i += 1
    return out


# ---------------------------------------------------------------- runs
class Slots:
    """At most N processes (MPI ranks) at a time."""

    def __init__(self, n):
        self.free, self.cond = n, threading.Condition()

    def run(self, n, fn):
        with self.cond:
            self.cond.wait_for(lambda: self.free >= n)
            self.free -= n
        try:
            return fn()
        finally:
            with self.cond:
                self.free += n
                self.cond.notify_all()


def read_vecs(data):
    """PETSc binary Vecs (classid 1211214, n, n big-endian doubles), one after another."""
    vecs, pos = [], 0
    while pos + 8 <= len(data):
        classid, n = struct.unpack(">ii", data[pos:pos + 8])
        if classid != 1211214 or pos + 8 + 8 * n > len(data):
            return None
        vecs.append(struct.unpack(">%dd" % n, data[pos + 8:pos + 8 + 8 * n]))
        pos += 8 + 8 * n
    return vecs if pos == len(data) else None


def max_rel_diff(a, b):
    va, vb = read_vecs(a), read_vecs(b)
    if va is None or vb is None or [len(x) for x in va] != [len(x) for x in vb]:
        return None
    worst = 0.0
    for xa, xb in zip(va, vb):
        scale = max([abs(x) for x in xa] + [1e-300])
        for p, q in zip(xa, xb):
            worst = max(worst, abs(p - q) / scale)
    return worst


def numbers_close(a, b, rtol=1e-5, atol=1e-10):
    """PETSc's petscdiff in short: the same words, numbers equal to a relative tolerance."""
    ta, tb = a.split(), b.split()
    if len(ta) != len(tb):
        return False
    num = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?[,;:)]*$")
    for p, q in zip(ta, tb):
        if p == q:
            continue
        if not (num.match(p) and num.match(q)):
            return False
        x, y = float(p.rstrip(",;:)")), float(q.rstrip(",;:)"))
        if abs(x - y) > atol + rtol * max(abs(x), abs(y)):
            return False
    return True


class Suite:
    def __init__(self, opts):
        self.o = opts
        self.config = Config(opts.petscconf)
        self.slots = Slots(opts.max_ranks)
        self.scratch = tempfile.mkdtemp(prefix="cairn-tutorials-")
        self.tmpdir = os.path.join(self.scratch, "tmp")
        os.mkdir(self.tmpdir)
        self.env = dict(os.environ)
        self.env.pop("PETSC_OPTIONS", None)
        self.env.update({"TMPDIR": self.tmpdir, "OMPI_ALLOW_RUN_AS_ROOT": "1",
                         "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                         "OMPI_MCA_btl_vader_single_copy_mechanism": "none"})
        self.env.pop("DISPLAY", None)  # draw monitors must not open windows
        self.lock = threading.Lock()
        self.leftovers = []

    # ---- building
    def build(self, program, build):
        exe = os.path.join(self.o.build_dir, os.path.splitext(program["rel"])[0])
        sources = [program["source"]] + [os.path.join(program["dir"], d)
                                         for d in build.get("depends", "").split()]
        headers = [os.path.join(program["dir"], h) for h in os.listdir(program["dir"])
                   if h.endswith(".h")]
        compiler = self.o.cxx if program["source"].endswith(".cxx") else self.o.cc
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "PETSc"], check=True,
                               capture_output=True, text=True).stdout.split()
        cmd = [compiler, "-O2", "-o", exe] + sources + flags + ["-lm"]
        stamp = exe + ".cmd"
        if os.path.exists(exe) and os.path.exists(stamp):
            with open(stamp) as f:
                same = f.read() == " ".join(cmd)
            newest = max(os.path.getmtime(p) for p in sources + headers)
            if same and os.path.getmtime(exe) >= newest:
                return exe, None
        os.makedirs(os.path.dirname(exe), exist_ok=True)
        r = self.slots.run(1, lambda: subprocess.run(cmd, capture_output=True, text=True))
        if r.returncode != 0:
            return None, (r.stdout + r.stderr).strip().splitlines()[:5]
        with open(stamp, "w") as f:
            f.write(" ".join(cmd))
        return exe, None

    # ---- one process
    def execute(self, v, exe, args, tag):
        cwd = os.path.join(self.scratch, "runs", v["name"], tag)
        os.makedirs(cwd)
        for f in v["localrunfiles"].split():
            src = os.path.join(v["dir"], f)
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(cwd, f))
            else:
                shutil.copy(src, cwd)
        lam = os.path.join(cwd, "lambda0.bin")
        args = args + ["-ts_adjoint_view_solution", "binary:%s::append" % lam]
        cmd = [exe] + args
        if v["nsize"] > 1:
            cmd = [self.o.mpiexec, "-n", str(v["nsize"])] + shlex.split(self.o.mpiexec_flags) + cmd
        # A TMPDIR of its own (the disk checkpoints go there; Open MPI's singletons also race for
        # their session folder in a shared one).
        tmp = os.path.join(self.tmpdir, v["name"].replace("/", "_") + "." + tag)
        os.makedirs(tmp)
        env = dict(self.env, TMPDIR=tmp)
        start = time.time()

        def go():
            try:
                r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True,
                                   timeout=self.o.timeout, errors="replace")
                return r.returncode, r.stdout, r.stderr
            except subprocess.TimeoutExpired as e:
                out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else ""
                return "timeout", out or "", "timed out after %d s" % self.o.timeout
        rc, out, err = self.slots.run(v["nsize"], go)
        # Nothing may be left in the run's TMPDIR but Open MPI's own session folder.
        left = [f for f in os.listdir(tmp) if not f.startswith(("ompi.", "openmpi-sessions"))]
        if left:
            with self.lock:
                self.leftovers.append("%s %s: %s" % (v["name"], tag, " ".join(sorted(left))))
        shutil.rmtree(tmp, ignore_errors=True)
        lam_bytes = None
        if os.path.exists(lam):
            with open(lam, "rb") as f:
                lam_bytes = f.read()
        shutil.rmtree(cwd, ignore_errors=True)
        if self.o.logs:
            base = os.path.join(self.o.logs, v["name"].replace("/", "_") + "." + tag)
            with open(base + ".log", "w") as f:
                f.write("$ %s\n--- rc %s; stdout:\n%s--- stderr:\n%s" % (
                    " ".join(shlex.quote(c) for c in cmd), rc, out, err))
        return {"rc": rc, "stdout": out, "stderr": err, "lambda": lam_bytes,
                "seconds": time.time() - start, "command": " ".join(shlex.quote(c) for c in cmd)}

    # ---- one variant: reference, then the three budgets
    def run_variant(self, v, exe, budgets):
        results = []

        def skip(reason, ref_note=None):
            for b in budgets:
                results.append({"variant": v["name"], "program": v["program"], "budget": b,
                                "class": "skipped", "detail": reason, "recomputations": None,
                                "reference": ref_note})
            return results

        if exe is None:
            return skip(v["skip"])
        args = shlex.split(v["args"])
        ref_args = drop_options(args, REVOLVE_CAMS_OPTIONS)
        ref_note = {"dropped": [a for a in args if a in REVOLVE_CAMS_OPTIONS]}
        # The reference is PETSc's memory type (every step stored) unless the variant names a
        # type; where memory fails (ex3opt, ex9opt, ex9bus* in Debian's build), the default basic.
        if "-ts_trajectory_type" in ref_args:
            ref_note["type"] = ref_args[ref_args.index("-ts_trajectory_type") + 1]
            ref = self.execute(v, exe, ref_args, "reference")
        else:
            ref_note["type"] = "memory"
            ref = self.execute(v, exe, ref_args + ["-ts_trajectory_type", "memory"], "reference")
            if ref["rc"] != 0:
                ref_note["type"] = "basic (memory fails: rc %s: %s)" % (
                    ref["rc"], first_error(ref["stdout"] + "\n" + ref["stderr"]))
                ref = self.execute(v, exe, ref_args, "reference-basic")
        ref_note["seconds"] = round(ref["seconds"], 2)
        ref_note["stored_output"] = self.compare_stored(v, ref["stdout"])
        ref_note["lambda0"] = ref["lambda"] is not None
        if ref["rc"] != 0:
            first = first_error(ref["stdout"] + "\n" + ref["stderr"])
            return skip("the reference run fails (rc %s): %s" % (ref["rc"], first), ref_note)
        ref_text = filtered(ref["stdout"])
        cairn_args = drop_options(args, STORAGE_OPTIONS) + [
            "-dll_append", self.o.plugin, "-ts_trajectory_type", "cairn", "-ts_trajectory_view"]
        for b in budgets:
            r = self.execute(v, exe, cairn_args + BUDGETS[b], b)
            res = {"variant": v["name"], "program": v["program"], "budget": b,
                   "reference": ref_note, "seconds": round(r["seconds"], 2),
                   "recomputations": recomputations(r["stdout"])}
            both = r["stdout"] + "\n" + r["stderr"]
            refusal = re.search(r"PETSC ERROR: (cairn: .*)", both)
            if r["rc"] != 0 and refusal:
                res.update({"class": "refused", "detail": refusal.group(1).strip()})
            elif r["rc"] != 0:
                res.update({"class": "failed",
                            "detail": "rc %s: %s" % (r["rc"], first_error(both))})
            else:
                text = filtered(r["stdout"])
                problems = []
                same, extra = same_but_recomputed(ref_text, text)
                if not same:
                    problems.append("stdout: " + diff_excerpt(ref_text, text))
                if ref["lambda"] is not None:
                    if r["lambda"] is None:
                        problems.append("lambda_0: not written")
                    elif r["lambda"] != ref["lambda"]:
                        d = max_rel_diff(ref["lambda"], r["lambda"])
                        problems.append("lambda_0: " + ("max relative difference %.3g" % d
                                                        if d is not None else "other shape"))
                if problems:
                    res.update({"class": "differs", "detail": "; ".join(problems)})
                elif ref["lambda"] is None:
                    res.update({"class": "text-only",
                                "detail": "no lambda_0 written (-ts_adjoint_view_solution)"})
                else:
                    n = len(read_vecs(ref["lambda"]) or [])
                    res.update({"class": "match",
                                "detail": "stdout and %d lambda_0 vector(s) equal" % n})
                if same and extra:
                    res["detail"] += " (and %d solver monitor lines of recomputed steps)" % extra
                res["_outcome"] = ([x for x in text if not SOLVER_MONITOR.search(x)], r["lambda"])
            results.append(res)
        # Where a run differs from the reference (a reference that is itself wrong, such as
        # memory's second-order adjoints), whether the budgets agree with each other, bitwise.
        outcomes = [r.pop("_outcome") for r in results if "_outcome" in r]
        if len(outcomes) == len(budgets) > 1 and all(o == outcomes[0] for o in outcomes):
            for r in results:
                if r["class"] == "differs":
                    r["class"] = "consistent"
                    r["detail"] += " (the %d budgets agree bitwise)" % len(budgets)
        return results

    def compare_stored(self, v, stdout):
        path = os.path.join(v["dir"], v["output_file"])
        if not os.path.exists(path):
            return "none"
        text = stdout
        if v["filter"]:
            text = subprocess.run(v["filter"], shell=True, input=stdout, capture_output=True,
                                  text=True, cwd=v["dir"]).stdout
        candidates = [path] + sorted(
            os.path.join(os.path.dirname(path), f) for f in os.listdir(os.path.dirname(path))
            if f.startswith(os.path.basename(path)[:-4] + "_alt") and f.endswith(".out"))
        verdict = "differs"
        for p in candidates:
            with open(p, errors="replace") as f:
                stored = f.read()
            if stored.split() == text.split():
                return "same" if p == path else "same (alt)"
            if numbers_close(stored, text):
                verdict = "close"
        return verdict


def first_error(text):
    for line in text.splitlines():
        m = re.search(r"PETSC ERROR: (.*)", line)
        if m and m.group(1).strip() and not m.group(1).startswith("-----") and \
                "Error Message" not in m.group(1):
            return m.group(1).strip()
    for line in text.splitlines():
        if re.search(r"error|signal|abort|Segmentation", line, re.I):
            return line.strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else "(no output)"


def recomputations(stdout):
    steps = [int(m) for m in re.findall(r"Cairn recomputed steps: (\d+)", stdout)]
    return sum(steps) if steps else None


def diff_excerpt(a, b):
    for i, (p, q) in enumerate(zip(a, b)):
        if p != q:
            return "line %d: %r != %r" % (i + 1, p[:80], q[:80])
    return "%d lines != %d lines" % (len(a), len(b))


# ---------------------------------------------------------------- expectations
def read_expectations(path):
    rules, quick = [], []
    with open(path) as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("quick:"):
                quick += line[6:].split()
                continue
            fields = line.split(None, 3)
            if len(fields) < 3 or fields[2] not in CLASSES:
                sys.exit("%s: bad line: %s" % (path, raw.rstrip()))
            rules.append((fields[0], fields[1], fields[2], fields[3] if len(fields) > 3 else ""))
    return rules, quick


def expected_class(rules, variant, budget):
    for pattern, b, cls, reason in rules:  # the first matching line counts
        if fnmatch.fnmatchcase(variant, pattern) and fnmatch.fnmatchcase(budget, b):
            return cls, reason
    return "match", ""


# ---------------------------------------------------------------- report
def markdown(results, budgets, programs, variants, seconds):
    """One row per variant (a cell per budget: the class, and the recomputed steps), then the runs
    that do not match, grouped by what they say."""
    counts = {c: sum(r["class"] == c for r in results) for c in CLASSES}
    lines = ["%d programs, %d variants, %d cairn runs: %s (%.0f s on %d processes)." % (
        programs, variants, len(results),
        ", ".join("%d %s" % (counts[c], c) for c in CLASSES if counts[c]), seconds, 2), "",
        "| variant | reference | " + " | ".join(budgets) + " |",
        "| --- | --- |" + " --- |" * len(budgets)]
    rows = {}
    for r in results:
        rows.setdefault(r["variant"], {})[r["budget"]] = r
    for name, by_budget in rows.items():
        ref = next(iter(by_budget.values())).get("reference")
        reference = "-" if not ref else ref["type"].split(" (")[0] + (
            ", stored output: " + ref["stored_output"])
        cells = []
        for b in budgets:
            r = by_budget.get(b)
            if r is None:
                cells.append("")
                continue
            rec = r.get("recomputations")
            cells.append(r["class"] + ("" if rec is None else " (%d)" % rec))
        lines.append("| %s | %s | %s |" % (name, reference, " | ".join(cells)))
    lines += ["", "In parentheses: the steps cairn recomputed (all TSAdjointSolve calls of a run).",
              "", "Runs that do not match:", ""]
    groups = {}
    for r in results:
        if r["class"] in ("match", "skipped"):
            continue
        key = (r["class"], r["detail"][:200])
        groups.setdefault(key, []).append("%s %s" % (r["variant"], r["budget"]))
    for (cls, detail), runs in sorted(groups.items()):
        lines.append("- **%s** (%d): %s: %s" % (
            cls, len(runs), detail.replace("|", "\\|"), ", ".join(runs)))
    skipped = {}
    for r in results:
        if r["class"] == "skipped" and r["budget"] == budgets[0]:
            skipped.setdefault(r["detail"], []).append(r["variant"])
    lines += ["", "Skipped variants:", ""]
    for detail, names in sorted(skipped.items()):
        lines.append("- %s (%d): %s" % (detail, len(names), ", ".join(names)))
    return "\n".join(lines) + "\n"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--plugin", required=True, help="libcairn_petsc.so")
    p.add_argument("--tutorials", default="/usr/share/petsc/3.18/share/petsc/examples/src/ts/"
                                          "tutorials")
    p.add_argument("--petscconf", default=None, help="petscconf.h (default: from pkg-config)")
    p.add_argument("--build-dir", required=True, help="where the compiled tutorials are cached")
    p.add_argument("--expectations", default=os.path.join(here, "tutorial_expectations.txt"))
    p.add_argument("--quick", action="store_true", help="only the variants of the quick: lines")
    p.add_argument("--only", default=None, help="only variants whose name matches this glob")
    p.add_argument("--budgets", default="ram,disk,online")
    p.add_argument("--max-ranks", type=int, default=2, help="processes at a time (and max nsize)")
    p.add_argument("--timeout", type=int, default=300, help="seconds per run")
    p.add_argument("--cc", default="mpicc")
    p.add_argument("--cxx", default="mpicxx")
    p.add_argument("--mpiexec", default="mpiexec")
    p.add_argument("--mpiexec-flags", default="")
    p.add_argument("--markdown", default=None, help="write the results table as Markdown")
    p.add_argument("--json", default=None, help="write every run's result as JSON")
    p.add_argument("--keep-scratch", action="store_true")
    p.add_argument("--logs", default=None, help="write each run's command and output here")
    o = p.parse_args()
    o.plugin = os.path.abspath(o.plugin)
    o.build_dir = os.path.abspath(o.build_dir)
    if o.logs:
        os.makedirs(o.logs, exist_ok=True)
    if o.petscconf is None:
        inc = subprocess.run(["pkg-config", "--variable=includedir", "PETSc"], check=True,
                             capture_output=True, text=True).stdout.strip()
        o.petscconf = os.path.join(inc, "petscconf.h")
    budgets = o.budgets.split(",")
    rules, quick = read_expectations(o.expectations)
    started = time.time()
    suite = Suite(o)

    programs = discover(o.tutorials)
    jobs = []  # (variant, program, build)
    for prog in programs:
        build, vs = variants_of(prog)
        for v in vs:
            v["dir"] = prog["dir"]
            if o.quick and v["name"] not in quick:
                continue
            if o.only and not fnmatch.fnmatchcase(v["name"], o.only):
                continue
            jobs.append((v, prog, build))
    print("%d adjoint tutorials, %d variants selected, budgets %s" % (
        len(programs), len(jobs), ",".join(budgets)), flush=True)

    # Build what is needed, two compilers at a time.
    needed = {}
    for v, prog, build in jobs:
        unmet = suite.config.unmet(v["requires"])
        if unmet:
            v["skip"] = "requires %s, which this PETSc lacks" % " ".join(unmet)
        elif v["nsize"] > o.max_ranks:
            v["skip"] = "needs %d MPI ranks; the suite runs at most %d" % (v["nsize"], o.max_ranks)
        else:
            needed[prog["rel"]] = (prog, build)
    exes = {}
    with ThreadPoolExecutor(max_workers=o.max_ranks) as pool:
        for rel, (exe, err) in zip(needed, pool.map(lambda pb: suite.build(*pb), needed.values())):
            exes[rel] = (exe, err)
            if err:
                print("build of %s failed: %s" % (rel, " / ".join(err)), flush=True)
    print("built %d programs in %.0f s" % (len(exes), time.time() - started), flush=True)

    def one(job):
        v, prog, build = job
        exe = None
        if "skip" not in v:
            exe, err = exes[prog["rel"]]
            if exe is None:
                v["skip"] = "does not compile: " + " / ".join(err or [])
        res = suite.run_variant(v, exe, budgets)
        with suite.lock:
            for r in res:
                print("%-22s %-7s %-9s %s" % (r["variant"], r["budget"], r["class"],
                                              r["detail"][:150]), flush=True)
        return res

    results = []
    try:
        with ThreadPoolExecutor(max_workers=o.max_ranks) as pool:
            for res in pool.map(one, jobs):
                results.extend(res)
    finally:
        left = suite.leftovers + ["TMPDIR: " + f for f in os.listdir(suite.tmpdir)]
        if not o.keep_scratch:
            shutil.rmtree(suite.scratch, ignore_errors=True)
    seconds = time.time() - started

    # Verdicts against the expectations.
    regressions, notices = [], []
    for r in results:
        exp, reason = expected_class(rules, r["variant"], r["budget"])
        r["expected"] = exp
        got = r["class"]
        key = "%s %s: %s" % (r["variant"], r["budget"], got)
        if got == exp:
            continue
        if exp == "match" or got in ("differs", "failed"):
            regressions.append("%s, expected %s (%s): %s" % (key, exp, reason or "-", r["detail"]))
        elif got == "match":
            notices.append("%s, expected %s (%s): an improvement; update %s" % (
                key, exp, reason or "-", os.path.basename(o.expectations)))
        else:
            notices.append("%s, expected %s (%s): %s" % (key, exp, reason or "-", r["detail"]))

    counts = {c: sum(r["class"] == c for r in results) for c in CLASSES}
    nvariants = len(jobs)
    print()
    print("%d programs, %d variants, %d runs: %s; %.0f s" % (
        len({v["program"] for v, _, _ in jobs}), nvariants, len(results),
        ", ".join("%d %s" % (counts[c], c) for c in CLASSES), seconds))
    stored = {}
    seen = set()
    for r in results:
        ref = r.get("reference")
        if ref and r["variant"] not in seen:
            seen.add(r["variant"])
            stored[ref["stored_output"]] = stored.get(ref["stored_output"], 0) + 1
    print("reference against PETSc's stored output/ file: " +
          ", ".join("%d %s" % (n, k) for k, n in sorted(stored.items())))
    if o.markdown:
        with open(o.markdown, "w") as f:
            f.write(markdown(results, budgets, len({v["program"] for v, _, _ in jobs}), nvariants,
                             seconds))
    if o.json:
        with open(o.json, "w") as f:
            json.dump({"seconds": round(seconds, 1), "counts": counts, "results": results}, f,
                      indent=1)
    for n in notices:
        print("notice: " + n)
    for r in regressions:
        print("REGRESSION: " + r)
    if left:
        print("FAIL: files left in the private TMPDIR: %s" % "; ".join(sorted(left)))
    if regressions or left:
        sys.exit(1)
    print("no regressions")


if __name__ == "__main__":
    main()
