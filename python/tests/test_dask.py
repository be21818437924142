"""vbq.dask on a two-process LocalCluster (loopback only): the same bytes as
vbq.compress whatever the chunking, lazy block-aligned decompression."""
import functools
import time

import dask.array as da
import h5py
import numpy as np
import pytest
import zarr
from distributed import Client, LocalCluster

import vbq
import vbq.dask
from conftest import posterior


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None)
    with Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(4)
    return {"word": posterior(rng, (2500, 40), np.float32), "bias": posterior(rng, (3000,), np.float64, 0.01)}


def test_the_prior_sum_depends_on_its_order(data):
    # Why pass 1 folds in storage order: numpy's pairwise sum of the same squares
    # differs from the sequential one the C++ fit uses, so a tree reduction over
    # chunks would change the prior (and the bytes).
    x = data["word"][0].astype(np.float64).ravel()
    sequential = functools.reduce(lambda s, v: s + v * v, x.tolist(), 0.0)
    assert vbq._vbq.fold_squares(0.0, x, 0.0) == sequential
    assert float(np.sum(x * x)) != sequential


@pytest.mark.parametrize("chunks", [(2500, 40), (1000, 40), (333, 17), (61, 40), (2500, 3)])
@pytest.mark.parametrize("prior", ["gauss", "gauss-fit"])
def test_same_bytes_as_single_process_whatever_the_chunks(client, data, chunks, prior):
    expected = vbq.compress(data, prior=prior, vocab=["a", "b"])
    dasked = {"word": (da.from_array(data["word"][0], chunks=chunks), da.from_array(data["word"][1], chunks=(600, 40))),
              "bias": (da.from_array(data["bias"][0], chunks=chunks[0]), data["bias"][1])}
    assert vbq.dask.compress(dasked, prior=prior, vocab=["a", "b"]) == expected


def test_other_settings(client, data):
    mu, sigma = (da.from_array(a, chunks=(400, 20)) for a in data["word"])
    for kwargs in [dict(lam=0.3), dict(block_tables=False), dict(lam=3, prior="gauss-fit")]:
        assert vbq.dask.compress({"word": (mu, sigma)}, **kwargs) == vbq.compress({"word": data["word"]}, **kwargs)
    for kwargs in [dict(prior="laplace"), dict(prior="auto"), dict(refine=1), dict(target_size=10000),
                   dict(target_bits_per_dim=2.0)]:
        with pytest.raises(vbq.ArgumentError):
            vbq.dask.compress({"word": (mu, sigma)}, **kwargs)


def test_errors_name_the_chunk(client, data):
    mu, sigma = data["word"]
    bad = sigma.copy()
    bad[1234, 5] = 0
    with pytest.raises(vbq.ArgumentError, match=r"sigma\[234, 5\] of the chunk starting at \[1000, 0\]"):
        vbq.dask.compress({"word": (da.from_array(mu, chunks=(500, 40)), da.from_array(bad, chunks=(500, 40)))})


def test_chunked_hdf5_and_zarr_inputs(client, data, tmp_path):
    mu, sigma = data["word"]
    expected = vbq.compress({"word": (mu, sigma)})
    with h5py.File(tmp_path / "m.h5", "w") as f:
        f.create_dataset("word/mean", data=mu, chunks=(256, 40))
        f.create_dataset("word/std", data=sigma, chunks=(256, 40))
    z = zarr.open_group(str(tmp_path / "m.zarr"), mode="w")
    z.create_dataset("mean", data=mu, chunks=(300, 20))
    z.create_dataset("std", data=sigma, chunks=(300, 20))
    zmu, zsigma = da.from_zarr(str(tmp_path / "m.zarr"), "mean"), da.from_zarr(str(tmp_path / "m.zarr"), "std")
    assert vbq.dask.compress({"word": (zmu, zsigma)}) == expected
    with h5py.File(tmp_path / "m.h5", "r") as f:
        # h5py datasets do not pickle: read them on the client's threads (a
        # distributed cluster reads from zarr, or from HDF5 via its own workers).
        hmu = da.from_array(f["word/mean"], chunks=(512, 40))
        hsigma = da.from_array(f["word/std"], chunks=(512, 40))
        assert vbq.dask.compress({"word": (hmu, hsigma)}, threads_per_task=0) == expected
        assert vbq.compress(f) == expected


def test_decompress_is_lazy_and_block_aligned(client, data, tmp_path):
    blob = vbq.compress(data, lam=0.5)
    full = vbq.decompress(blob)
    path = tmp_path / "m.vbq"
    path.write_bytes(blob)
    for source in (blob, path):
        arrays = vbq.dask.decompress(source)
        assert sorted(arrays) == sorted(full)
        for name, x in arrays.items():
            assert x.dtype == full[name].dtype and x.shape == full[name].shape
            np.testing.assert_array_equal(x.compute(), full[name])
    big = vbq.compress({"v": posterior(np.random.default_rng(1), (3 << 20,), np.float32)})
    v = vbq.dask.decompress(big)["v"]
    assert v.chunks[0] == (1 << 20,) * 3  # one chunk per coded block
    np.testing.assert_array_equal(v[(1 << 20) + 5:(1 << 20) + 9].compute(), vbq.open(big).rows("v", (1 << 20) + 5, 4))


def test_throughput_report(client):
    """Not a check: prints dask vs single-process time on 10^6 coordinates
    (python/bench/dask_throughput.py measures larger arrays)."""
    n = 10 ** 6
    mu = da.random.RandomState(0).standard_normal((n // 100, 100), chunks=(2500, 100))
    sigma = da.random.RandomState(1).uniform(0.05, 0.3, (n // 100, 100), chunks=(2500, 100))
    mu, sigma = client.persist([mu, sigma])
    local = (mu.compute(), sigma.compute())
    t0 = time.perf_counter()
    expected = vbq.compress({"w": local})
    t1 = time.perf_counter()
    got = vbq.dask.compress({"w": (mu, sigma)})
    t2 = time.perf_counter()
    assert got == expected
    print(f"\n10^6 coordinates: single process {t1 - t0:.3f} s, dask 2 workers {t2 - t1:.3f} s")


def test_escapes_match_too(client):
    # Outliers far beyond the prior escape (their means travel in the file); rare
    # code points escape by the whole tensor's counts, on the client.
    rng = np.random.default_rng(8)
    mu, sigma = posterior(rng, (3000, 30))
    mu[rng.integers(0, 3000, 40), rng.integers(0, 30, 40)] = rng.standard_normal(40) * 1e4
    expected = vbq.compress({"w": (mu, sigma)}, lam=0.05)
    assert vbq.dask.compress({"w": (da.from_array(mu, chunks=(700, 13)), sigma)}, lam=0.05) == expected
    x = vbq.decompress(expected)["w"]
    big = np.abs(mu) > 100
    np.testing.assert_array_equal(x[big], mu[big])  # escaped: exact
