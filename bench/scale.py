#!/usr/bin/python3
"""Scale benchmark of `vbq compress` and `vbq decompress` on synthetic posteriors.

For each size N (coordinates) it writes an HDF5 model of two float32 tensors,
word/mean + word/std and context/mean + context/std, each [N / 200, 100]: means
0.3 t(5) (heavy tails), stds log-uniform over 0.01..1 (two decades). It then runs
    vbq compress MODEL.h5 -o MODEL.vbq --lambda L -T 2 -f
    vbq decompress MODEL.vbq -o MODEL.restored.h5 -T 2 -f
each --repeat times under /usr/bin/time -v, after writing back the page cache
(sync), and reports the median wall time, coordinates per second, median CPU
time (user + system) per coordinate and the peak RSS, as a table and as JSON in
bench/results/scale.json. It checks free disk space before writing a model
(input 8 bytes, restored 4 bytes per coordinate) and skips a size that does not
fit, saying so.

usage: /usr/bin/python3 bench/scale.py [--vbq build/vbq] [--dir /tmp/vbq-scale]
                                      [--sizes 1e7,1.6e7,1.6e8] [--lambda 1]
                                      [--repeat 3] [--keep]
Needs numpy and h5py (Debian: python3-numpy, python3-h5py).
"""
import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

import h5py
import numpy as np

ROW = 100  # elements per row of both tensors


def generate(path, coords, seed=1):
    """Two tensors of coords / 2 elements each, written in slices of rows."""
    rows = coords // 2 // ROW
    rng = np.random.default_rng(seed)
    with h5py.File(path + ".part", "w") as f:
        for name in ("word", "context"):
            mean = f.create_dataset(name + "/mean", (rows, ROW), dtype="f4")
            std = f.create_dataset(name + "/std", (rows, ROW), dtype="f4")
            step = max(1, (1 << 22) // ROW)
            for r in range(0, rows, step):
                n = min(step, rows - r)
                mean[r:r + n] = (0.3 * rng.standard_t(5, size=(n, ROW))).astype("f4")
                std[r:r + n] = (10.0 ** rng.uniform(-2, 0, size=(n, ROW))).astype("f4")
    os.replace(path + ".part", path)
    return 2 * rows * ROW


def timed(cmd):
    """Runs cmd under /usr/bin/time -v: wall s, user + sys s, peak RSS MiB. The
    page cache is written back first, so that no earlier run's writes overlap it."""
    os.sync()
    start = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr))
    def field(name):
        return re.search(re.escape(name) + r": (.*)", p.stderr).group(1).strip()
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    rss = int(field("Maximum resident set size (kbytes)")) / 1024
    return wall, cpu, rss, p.stderr.splitlines()[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vbq", default="build/vbq")
    ap.add_argument("--dir", default="/tmp/vbq-scale")
    ap.add_argument("--sizes", default="1e7,1.6e7,1.6e8")
    ap.add_argument("--keep", action="store_true", help="keep the generated models")
    ap.add_argument("--out", default="bench/results/scale.json")
    ap.add_argument("--lambda", dest="lam", default="1", help="vbq compress --lambda (1: 3.18 bits/coordinate, 10: 1.80)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each step; the median wall and CPU time count")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    env = dict(os.environ, OPENBLAS_CORETYPE="Haswell")
    results = []
    for size in [int(float(s)) for s in a.sizes.split(",")]:
        model = os.path.join(a.dir, "scale-%g.h5" % size)
        packed, restored = model[:-3] + ".vbq", model[:-3] + ".restored.h5"
        need = (4 if os.path.exists(model) else 12) * size  # restored 4, input 8 bytes per coordinate
        free = shutil.disk_usage(a.dir).free
        if not os.path.exists(model) and free < need:
            print("skipping %g coordinates: needs %.1f GB free in %s, has %.1f GB" % (size, need / 1e9, a.dir, free / 1e9))
            continue
        if not os.path.exists(model):
            generate(model, size)
        with h5py.File(model, "r") as f:
            coords = int(sum(f[t + "/mean"].size for t in ("word", "context")))
        row = {"coords": coords, "lambda": float(a.lam), "repeat": a.repeat,
               "date": datetime.datetime.utcnow().isoformat(timespec="seconds") + "Z",
               "load_before": os.getloadavg()[0]}
        for step, cmd in (("compress", [a.vbq, "compress", model, "-o", packed, "--lambda", a.lam, "-T", "2", "-f"]),
                          ("decompress", [a.vbq, "decompress", packed, "-o", restored, "-T", "2", "-f"])):
            runs = [timed(cmd) for _ in range(max(1, a.repeat))]
            wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
            rss, line = max(r[2] for r in runs), runs[-1][3]
            row[step] = {"command": " ".join(cmd), "wall_s": wall, "coords_per_s": coords / wall,
                         "cpu_ns_per_coord": 1e9 * cpu / coords, "peak_rss_mib": rss, "message": line,
                         "walls_s": [round(r[0], 4) for r in runs]}
            print("%-10s %12d  wall %8.1f s  %6.2f M coords/s  cpu %6.1f ns/coord  peak RSS %7.1f MiB"
                  % (step, coords, wall, coords / wall / 1e6, 1e9 * cpu / coords, rss), flush=True)
        row["vbq_bytes"] = os.path.getsize(packed)
        row["bits_per_coord"] = 8.0 * row["vbq_bytes"] / coords
        row["load_after"] = os.getloadavg()[0]
        results.append(row)
        for f in [packed, restored] + ([] if a.keep else [model]):
            os.remove(f)
    old = []
    if os.path.exists(a.out):
        with open(a.out) as f:
            old = json.load(f)["runs"]
    with open(a.out, "w") as f:
        json.dump({"machine": "%d cores (shared)" % os.cpu_count(), "runs": old + results}, f, indent=1)
    print("\n| coords | step | wall s | M coords/s | CPU ns/coord | peak RSS MiB | bits/coord | load |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        for step in ("compress", "decompress"):
            s = r[step]
            print("| %.3g | %s | %.2f | %.2f | %.1f | %.0f | %.3f | %.1f |" % (
                r["coords"], step, s["wall_s"], s["coords_per_s"] / 1e6, s["cpu_ns_per_coord"], s["peak_rss_mib"],
                r["bits_per_coord"], r["load_before"]))


if __name__ == "__main__":
    main()
