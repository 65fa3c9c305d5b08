"""Benchmark: compare() on 1,000,000 rows x 20 numeric columns.

Measures, in one run and on the same data:

- ``compare`` from this package (fit 10 quantile bins per column on the
  reference, count both frames, score);
- the numpy floor: ``np.histogram`` of the same 40 columns on the same edges
  (and, for reference, a hand-written ``searchsorted`` + ``bincount`` pass);
- with ``--baseline-src DIR``: the same ``compare`` from another source tree
  (e.g. ``git worktree add /tmp/old <commit>``), in the same run, to hold a
  change to a speed target relative to before; and both trees' ``compare``
  on a text column (100,000 vs 20,000 documents of 12 words);
- Evidently's ``DataDriftPreset(method="kl_div")``, in its own virtualenv
  (``bench/.venv-evidently``: Evidently needs pandas < 3), in a subprocess.

Each contestant runs in a fresh subprocess that loads the same ``.npy``
files from ``bench/.data/``; its peak memory is the rise of the process's
resident-set high-water mark (VmHWM, reset after loading through
``/proc/self/clear_refs``) over the resident size before the call. Wall
time is the best of ``--repeat`` runs (Evidently: one run).

Usage: ``.venv/bin/python bench/bench_compare.py [--rows N] [--repeat R]``.
Setting up the Evidently environment (once)::

    python3 -m venv bench/.venv-evidently
    bench/.venv-evidently/bin/pip install evidently 'pandas<3'
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
EVIDENTLY_PYTHON = HERE / ".venv-evidently" / "bin" / "python"
COLUMNS = 20

# Runs inside each contestant's subprocess: load data, reset the memory
# high-water mark, run, report JSON on stdout.
WORKER = r"""
import json, resource, sys, time
import numpy as np
import pandas as pd

def rss_kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])
    raise RuntimeError(field)

which, data, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
ref = np.load(f"{data}/reference.npy")
cur = np.load(f"{data}/current.npy")
names = [f"f{i}" for i in range(ref.shape[0])]
ref_df = pd.DataFrame({n: ref[i] for i, n in enumerate(names)}, copy=False)
cur_df = pd.DataFrame({n: cur[i] for i, n in enumerate(names)}, copy=False)
input_bytes = ref.nbytes + cur.nbytes

if which == "drift":
    from drift import compare
    def run():
        return compare(ref_df, cur_df).to_frame()
elif which == "drift-text":
    # 100,000 reference and 20,000 live documents of 12 words (topic-clustered).
    from drift import compare
    rng = np.random.default_rng(5)
    words = np.array([f"w{i}" for i in range(600)])
    def docs(n):
        topics = rng.integers(0, 6, n)
        picks = rng.integers(0, 100, (n, 12)) + 100 * topics[:, None]
        return pd.DataFrame({"text": [" ".join(words[row]) for row in picks]})
    text_ref, text_cur = docs(100_000), docs(20_000)
    def run():
        return compare(text_ref, text_cur, kinds={"text": "text"}).to_frame()
elif which == "numpy-histogram":
    from drift import fit_numeric
    edges = []
    for i in range(ref.shape[0]):
        cuts = np.asarray(fit_numeric(ref[i]).cuts)
        lo = min(ref[i].min(), cur[i].min())
        hi = max(ref[i].max(), cur[i].max())
        edges.append(np.r_[lo, cuts, hi])
    def run():
        return [np.histogram(a[i], bins=edges[i])[0] for a in (ref, cur) for i in range(a.shape[0])]
elif which == "numpy-searchsorted":
    from drift import fit_numeric
    cuts = [np.asarray(fit_numeric(ref[i]).cuts) for i in range(ref.shape[0])]
    def run():
        return [
            np.bincount(np.searchsorted(cuts[i], a[i], side="right"), minlength=cuts[i].size + 1)
            for a in (ref, cur) for i in range(a.shape[0])
        ]
elif which == "evidently":
    from evidently import Report
    from evidently.presets import DataDriftPreset
    def run():
        snapshot = Report([DataDriftPreset(method="kl_div")]).run(cur_df, ref_df)
        return snapshot.dict()
else:
    raise SystemExit(f"unknown contestant {which}")

del ref_df, cur_df
ref_df = pd.DataFrame({n: ref[i] for i, n in enumerate(names)}, copy=False)
cur_df = pd.DataFrame({n: cur[i] for i, n in enumerate(names)}, copy=False)
open("/proc/self/clear_refs", "w").write("5")
before = rss_kib("VmRSS")
times = []
for _ in range(repeat):
    start = time.perf_counter()
    result = run()
    times.append(time.perf_counter() - start)
    del result
peak = rss_kib("VmHWM")
print(json.dumps({
    "contestant": which,
    "seconds": min(times),
    "all_seconds": times,
    "input_mib": input_bytes / 2**20,
    "rss_before_mib": before / 1024,
    "peak_extra_mib": (peak - before) / 1024,
}))
"""


def make_data(rows: int) -> None:
    """Reference and current columns (float64, one row per column), written once."""
    DATA.mkdir(exist_ok=True)
    rng = np.random.default_rng(2024)
    ref = np.empty((COLUMNS, rows))
    cur = np.empty((COLUMNS, rows))
    for i in range(COLUMNS):
        ref[i] = rng.normal(0.0, 1.0, rows) if i % 2 else rng.lognormal(0.0, 0.5, rows)
        shift = 0.1 * (i % 4)  # a quarter of the columns unchanged, the rest shifted
        cur[i] = rng.normal(shift, 1.0, rows) if i % 2 else rng.lognormal(shift, 0.5, rows)
    np.save(DATA / "reference.npy", ref)
    np.save(DATA / "current.npy", cur)


def measure(
    python: Path | str, which: str, repeat: int, src: Path | None = None
) -> dict[str, float]:
    env = dict(os.environ)
    if src is not None:  # import drift from that tree instead of the installed one
        env["PYTHONPATH"] = str(src)
    out = subprocess.run(
        [str(python), "-c", WORKER, which, str(DATA), str(repeat)],
        check=True,
        capture_output=True,
        text=True,
        cwd=HERE.parent if src is None else src,
        env=env,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-evidently", action="store_true")
    parser.add_argument("--baseline-src", type=Path, help="another source tree's compare()")
    args = parser.parse_args()
    make_data(args.rows)
    results = {
        name: measure(sys.executable, name, args.repeat)
        for name in ("drift", "numpy-histogram", "numpy-searchsorted")
    }
    if args.baseline_src is not None:
        results["drift@baseline"] = measure(
            sys.executable, "drift", args.repeat, args.baseline_src.resolve()
        )
        results["drift-text"] = measure(sys.executable, "drift-text", args.repeat)
        results["drift-text@baseline"] = measure(
            sys.executable, "drift-text", args.repeat, args.baseline_src.resolve()
        )
    if not args.skip_evidently:
        if not EVIDENTLY_PYTHON.exists():
            raise SystemExit(f"{EVIDENTLY_PYTHON} is missing; see this file's docstring.")
        results["evidently"] = measure(EVIDENTLY_PYTHON, "evidently", 1)
    ours = results["drift"]
    print(
        f"{args.rows:,} rows x {COLUMNS} numeric columns, reference and current "
        f"({ours['input_mib']:.0f} MiB of input)"
    )
    print(f"{'contestant':<20}{'seconds':>10}{'peak extra MiB':>16}{'time / drift':>14}")
    for name, r in results.items():
        print(
            f"{name:<20}{r['seconds']:>10.3f}{r['peak_extra_mib']:>16.1f}"
            f"{r['seconds'] / ours['seconds']:>14.2f}"
        )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
