"""Time of vbq.open(...).row(name, i) on a 10^7-coordinate container: a
100,000 x 100 float32 embedding at lambda 1 (the default), rows drawn at random.

  PYTHONPATH=build/python /usr/bin/python3 python/bench/row_read.py [--rows N] [--reads K] [--json PATH]

Prints the median, p90 and max per read, as wall time and as the thread's CPU
time (the machine may be shared: CPU time is the steadier of the two), and
writes them as JSON (default bench/results/python_row_read.json). Each read
decodes the block holding the row from its start up to the row (rANS decodes
forward), so the time grows with the row's offset in its block; the median
row sits half-way. Goal: median < 5 ms.
"""
import argparse
import os
import time

import numpy as np

import bench_json
import vbq


def stats_ms(seconds):
    ms = np.asarray(seconds) * 1e3
    return {"median": round(float(np.median(ms)), 4), "p90": round(float(np.percentile(ms, 90)), 4),
            "max": round(float(ms.max()), 4)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--dims", type=int, default=100)
    ap.add_argument("--reads", type=int, default=1000)
    ap.add_argument("--json", default=bench_json.default_path("python_row_read"))
    args = ap.parse_args()

    rng = np.random.default_rng(9)
    shape = (args.rows, args.dims)
    mu = rng.standard_normal(shape).astype(np.float32)
    sigma = rng.uniform(0.02, 0.4, size=shape).astype(np.float32)
    blob = vbq.compress({"word": (mu, sigma)}, vocab=[f"w{i}" for i in range(args.rows)])

    t0 = time.perf_counter()
    c = vbq.open(blob)
    open_ms = (time.perf_counter() - t0) * 1e3
    full = c["word"]
    picks = np.random.default_rng(0).integers(0, args.rows, args.reads)
    c.row("word", 0)
    wall, cpu = [], []
    for r in picks:
        w0, c0 = time.perf_counter(), time.thread_time()
        x = c.row("word", int(r))
        cpu.append(time.thread_time() - c0)
        wall.append(time.perf_counter() - w0)
        if not np.array_equal(x, full[r]):
            raise SystemExit(f"row {r} differs from the full decode")
    by_word = []
    for r in picks[:100]:
        w0 = time.perf_counter()
        c.row("word", f"w{r}")
        by_word.append(time.perf_counter() - w0)

    result = {
        **bench_json.header("python_row_read"),
        "load_average": round(os.getloadavg()[0], 2),
        "shape": list(shape), "dtype": "float32", "lambda": 1.0, "container_bytes": len(blob),
        "block_rows": c.block_rows("word"), "reads": args.reads, "open_ms": round(open_ms, 3),
        "row_wall_ms": stats_ms(wall), "row_cpu_ms": stats_ms(cpu), "row_by_word_wall_ms": stats_ms(by_word),
        "target_median_ms": 5.0,
    }
    print(f"{shape[0]} x {shape[1]} float32, lambda 1: {len(blob)} bytes, {c.block_rows('word')} rows per block, "
          f"open {open_ms:.1f} ms")
    for key in ("row_wall_ms", "row_cpu_ms", "row_by_word_wall_ms"):
        s = result[key]
        print(f"  {key:20s} median {s['median']:7.3f}  p90 {s['p90']:7.3f}  max {s['max']:7.3f}")
    print(f"  load average {result['load_average']} (shared machine: wall times are noisy)")
    bench_json.write(args.json, result)


if __name__ == "__main__":
    main()
