"""Throughput of vbq.dask.compress on a LocalCluster against vbq.compress in one
process, on the same N float32 coordinates (default 10^8: 10^6 rows x 100), with
a check that the bytes are equal.

  PYTHONPATH=build/python /usr/bin/python3 python/bench/dask_throughput.py [--coords N] [--workers W]
      [--chunk-rows R] [--json PATH]

The arrays come from dask's RandomState (mu ~ N(0, 1), sigma ~ U(0.05, 0.3),
chunks of R rows, by default 10^4 rows = 10^6 coordinates, which cut through
the container's blocks of 10485 rows). The Dask run generates them on the
workers and persists them there before the clock starts; the single-process run
is a fresh process (so that its peak RSS is its own) that generates the same
arrays locally, then times vbq.compress (all cores). Peak RSS is VmHWM: of that
process (inputs included: 0.8 GB of float32 at 10^8), and of each worker and of
the client for the Dask run (the workers' includes their share of the inputs).
Prints a table and writes JSON (default bench/results/python_dask_throughput.json).
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

import bench_json

DIMS = 100


def peak_rss_mib():
    """VmHWM of this process, MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)


def arrays(rows, chunk_rows):
    import dask.array as da
    import numpy as np
    chunks = (chunk_rows, DIMS)
    mu = da.random.RandomState(0).standard_normal((rows, DIMS), chunks=chunks).astype(np.float32)
    sigma = da.random.RandomState(1).uniform(0.05, 0.3, (rows, DIMS), chunks=chunks).astype(np.float32)
    return mu, sigma


def single_process(rows, chunk_rows):
    """Runs in a child process: prints a JSON line."""
    import dask
    import vbq
    mu, sigma = dask.compute(*arrays(rows, chunk_rows), scheduler="threads")
    t0 = time.perf_counter()
    blob = vbq.compress({"word": (mu, sigma)})
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest(),
                      "peak_rss_mib": peak_rss_mib()}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--coords", type=float, default=1e8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk-rows", type=int, default=10_000)
    ap.add_argument("--json", default=bench_json.default_path("python_dask_throughput"))
    ap.add_argument("--single-process", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    rows = int(args.coords) // DIMS
    coords = rows * DIMS
    if args.single_process:
        return single_process(rows, args.chunk_rows)

    load_before = os.getloadavg()[0]
    child = subprocess.run([sys.executable, os.path.abspath(__file__), "--single-process", "--coords", str(coords),
                            "--chunk-rows", str(args.chunk_rows)], capture_output=True, text=True)
    if child.returncode != 0:
        raise SystemExit(child.stderr)
    local = json.loads(child.stdout.strip().splitlines()[-1])

    from distributed import Client, LocalCluster
    import vbq
    import vbq.dask
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, memory_limit=0) as cluster, Client(cluster) as client:
        mu, sigma = client.persist(list(arrays(rows, args.chunk_rows)))
        from distributed import wait
        wait([mu, sigma])
        client.run(reset_peak_rss)
        reset_peak_rss()
        timings = {}
        t0 = time.perf_counter()
        blob = vbq.dask.compress({"word": (mu, sigma)}, timings=timings)
        dask_seconds = time.perf_counter() - t0
        workers_rss = sorted(client.run(peak_rss_mib).values())
    client_rss = peak_rss_mib()
    same = hashlib.sha256(blob).hexdigest() == local["sha256"]

    result = {
        **bench_json.header("python_dask_throughput"),
        "load_average_before": round(load_before, 2), "load_average_after": round(os.getloadavg()[0], 2),
        "coordinates": coords, "shape": [rows, DIMS], "dtype": "float32", "lambda": 1.0, "prior": "gauss",
        "chunk_rows": args.chunk_rows, "container_bytes": len(blob), "same_bytes": same,
        "single_process": {"seconds": round(local["seconds"], 3),
                           "mcoords_per_s": round(coords / local["seconds"] / 1e6, 2),
                           "peak_rss_mib": round(local["peak_rss_mib"], 1)},
        "dask": {"workers": args.workers, "threads_per_worker": 1, "seconds": round(dask_seconds, 3),
                 "mcoords_per_s": round(coords / dask_seconds / 1e6, 2),
                 "cluster_seconds": round(timings["cluster"], 3), "assemble_seconds": round(timings["assemble"], 3),
                 "peak_rss_mib_workers": [round(r, 1) for r in workers_rss],
                 "peak_rss_mib_client": round(client_rss, 1)},
    }
    print(f"{coords:.3g} coordinates (float32, {rows} x {DIMS}, chunks of {args.chunk_rows} rows), "
          f"{len(blob)} bytes, same bytes: {same}; load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}")
    print(f"{'':38s} {'seconds':>8s} {'M coords/s':>11s}  peak RSS (MiB)")
    s, d = result["single_process"], result["dask"]
    print(f"{'vbq.compress, one process, all cores':38s} {s['seconds']:8.2f} {s['mcoords_per_s']:11.1f}  {s['peak_rss_mib']:.0f}")
    print(f"{f'vbq.dask.compress, {args.workers} workers x 1 thread':38s} {d['seconds']:8.2f} {d['mcoords_per_s']:11.1f}  "
          f"workers {', '.join(f'{r:.0f}' for r in workers_rss)}; client {client_rss:.0f}")
    print(f"  (dask: cluster {d['cluster_seconds']:.2f} s, assembly on the client {d['assemble_seconds']:.2f} s)")
    bench_json.write(args.json, result)


if __name__ == "__main__":
    main()
