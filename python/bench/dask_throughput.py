"""Throughput of vbq.dask.compress on a LocalCluster against vbq.compress in one
process, on the same N coordinates (default 10^8), with a check that the bytes
are equal.

  PYTHONPATH=build/python /usr/bin/python3 python/bench/dask_throughput.py [N] [WORKERS]

The arrays are generated on the workers (dask's RandomState, chunks of 10^6
coordinates) and persisted there; the single-process run gets the same arrays
gathered to the client. Times exclude generation.
"""
import sys
import time

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

import vbq
import vbq.dask


def main():
    n = int(float(sys.argv[1])) if len(sys.argv) > 1 else 10 ** 8
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    rows, dim = n // 100, 100
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        chunks = (10_000, dim)
        mu = da.random.RandomState(0).standard_normal((rows, dim), chunks=chunks).astype(np.float32)
        sigma = da.random.RandomState(1).uniform(0.05, 0.3, (rows, dim), chunks=chunks).astype(np.float32)
        mu, sigma = client.persist([mu, sigma])
        t0 = time.perf_counter()
        phases = {}
        blob = vbq.dask.compress({"word": (mu, sigma)}, timings=phases)
        t_dask = time.perf_counter() - t0
        local = (mu.compute(), sigma.compute())
        t0 = time.perf_counter()
        expected = vbq.compress({"word": local})
        t_local = time.perf_counter() - t0
    print(f"{rows * dim:.3g} coordinates (float32, {rows}x{dim}), {len(blob)} bytes, same bytes: {blob == expected}")
    print(f"  vbq.compress, one process, all cores:           {t_local:7.2f} s  {rows * dim / t_local / 1e6:6.1f} M coords/s")
    print(f"  vbq.dask.compress, {workers} workers x 1 thread:        {t_dask:7.2f} s  {rows * dim / t_dask / 1e6:6.1f} M coords/s"
          f"  (prior {phases['prior']:.2f} s, quantize + gather {phases['quantize']:.2f} s, "
          f"encode on the client {phases['encode']:.2f} s)")


if __name__ == "__main__":
    main()
