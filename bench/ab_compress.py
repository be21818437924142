#!/usr/bin/python3
"""Times two or more `vbq` builds on the same model, alternately, and prints the
median wall and CPU time (user + system) of `vbq compress MODEL --lambda L -T 2`
for each, with its output size: on a shared machine whose speed drifts, runs
interleaved in one script are the fair comparison.

usage: /usr/bin/python3 bench/ab_compress.py MODEL.h5 VBQ_A VBQ_B [...] [--lambda 10] [--runs 7]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time


def run(vbq, model, out, lam):
    start = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%U %S", vbq, "compress", model, "-o", out, "--lambda", lam,
                        "-T", "2", "-f", "-q"], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (vbq, p.stderr))
    user, system = map(float, re.findall(r"([\d.]+) ([\d.]+)\s*$", p.stderr)[0])
    return wall, user + system


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("vbq", nargs="+")
    ap.add_argument("--lambda", dest="lam", default="10")
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    coords = None
    times = {v: [] for v in a.vbq}
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(a.model))) as tmp:
        outs = {v: os.path.join(tmp, "%d.vbq" % i) for i, v in enumerate(a.vbq)}
        for _ in range(a.runs):
            for v in a.vbq:
                times[v].append(run(v, a.model, outs[v], a.lam))
        sizes = {v: os.path.getsize(outs[v]) for v in a.vbq}
        same = len({open(outs[v], "rb").read() for v in a.vbq}) == 1
    print("%s, --lambda %s, %d runs each, alternating; load average %.2f" % (a.model, a.lam, a.runs, os.getloadavg()[0]))
    for v in a.vbq:
        walls, cpus = [t[0] for t in times[v]], [t[1] for t in times[v]]
        print("  %-40s wall median %.3f s (min %.3f)  CPU median %.3f s  %d bytes" % (
            v, statistics.median(walls), min(walls), statistics.median(cpus), sizes[v]))
    print("  outputs identical" if same else "  outputs DIFFER")


if __name__ == "__main__":
    main()
