"""vbq.dask on a two-process LocalCluster (loopback only): the same bytes as
vbq.compress whatever the chunking, lazy block-aligned decompression."""
import collections
import functools

import dask.array as da
from dask.utils import key_split
import h5py
import numpy as np
import pytest
import zarr
from distributed import Client, LocalCluster, get_task_stream

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


@pytest.fixture(scope="module")
def blocks():
    """Tensors of several container blocks: 25000 x 100 (blocks of 10485 rows),
    a 1-D tensor of 2.5 blocks and rows wider than a block (2 x 1.1M)."""
    rng = np.random.default_rng(5)
    word = posterior(rng, (25000, 100), np.float32)
    word[1][10485 * 2:] *= 4  # the last block's statistics drift: a table of its own
    tensors = {"word": word, "bias": posterior(rng, ((1 << 20) + 12345,), np.float64, 0.01),
               "wide": posterior(rng, (2, 1_100_000), np.float32)}
    return tensors, vbq.compress(tensors, vocab=["a", "b"])


@pytest.mark.parametrize("chunks", [(25000, 100), (4000, 100), (7777, 37), (1, 100_000)],
                         ids=["one", "rows-across-blocks", "rows-and-columns", "tiny-rows"])
def test_same_bytes_whatever_the_chunks(client, blocks, chunks):
    # Chunks that cut through the container's blocks, along rows and columns.
    blocks, expected = blocks
    assert vbq.open(expected).meta("word")["tables"] > 1
    word_chunks = chunks if chunks[0] != 1 else (1234, 100)
    dasked = {"word": (da.from_array(blocks["word"][0], chunks=word_chunks),
                       da.from_array(blocks["word"][1], chunks=(3000, 50))),
              "bias": (da.from_array(blocks["bias"][0], chunks=word_chunks[0] * 37), blocks["bias"][1]),
              "wide": (da.from_array(blocks["wide"][0], chunks=(1, chunks[1] * 3001)), blocks["wide"][1])}
    assert vbq.dask.compress(dasked, vocab=["a", "b"]) == expected


def test_gauss_fit_and_one_table_and_where_the_work_runs(client, blocks):
    blocks, _ = blocks
    mu, sigma = (da.from_array(a, chunks=(6000, 70)) for a in blocks["word"])
    for kwargs in [dict(prior="gauss-fit", lam=0.3), dict(prior="wide:8", lam=0.3), dict(block_tables=False)]:
        with get_task_stream(client) as stream:
            assert vbq.dask.compress({"word": (mu, sigma)}, **kwargs) == vbq.compress({"word": blocks["word"]}, **kwargs)
        # Both passes ran on the workers: the prior's folds, Algorithm 1 and the
        # histograms of the 3 blocks, the plan, and the encoding of each block.
        assert all(task["worker"] in client.scheduler_info()["workers"] for task in stream.data)
        ran = collections.Counter(key_split(task["key"]) for task in stream.data)
        assert ran["vbq-keys"] == ran["vbq-hist"] == ran["vbq-blocks"] == 3 and ran["vbq-plan"] == 1, ran


def test_small_tensors(client, data):
    # One block, smaller than any chunk size; numpy inputs are wrapped.
    expected = vbq.compress(data, prior="gauss-fit", lam=2)
    dasked = {"word": (da.from_array(data["word"][0], chunks=(333, 17)), data["word"][1]),
              "bias": (da.from_array(data["bias"][0], chunks=61), data["bias"][1])}
    assert vbq.dask.compress(dasked, prior="gauss-fit", lam=2) == expected


def test_unsupported_settings(client, data):
    mu, sigma = (da.from_array(a, chunks=(400, 20)) for a in data["word"])
    for kwargs in [dict(prior="laplace"), dict(prior="auto"), dict(prior="wide:1"), dict(prior="wide:x"), dict(refine=1),
                   dict(target_size=10000),
                   dict(target_bits_per_dim=2.0)]:
        with pytest.raises(vbq.UnsupportedError):
            vbq.dask.compress({"word": (mu, sigma)}, **kwargs)
    with pytest.raises(vbq.ArgumentError):
        vbq.dask.compress({"word": (mu, sigma[:10])})


def test_errors_name_the_element(client, data):
    mu, sigma = data["word"]
    bad = sigma.copy()
    bad[1234, 5] = 0
    with pytest.raises(vbq.ArgumentError, match=r"tensor 'word': sigma\[1234, 5\] = 0"):
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

def test_decompress_decodes_only_the_blocks_computed(monkeypatch):
    big = vbq.compress({"v": posterior(np.random.default_rng(1), (3 << 20,), np.float32)})
    decoded, original = [], vbq.dask._decode_rows

    def counting(source, token, name, first, count):
        decoded.append((first, count))
        return original(source, token, name, first, count)

    monkeypatch.setattr(vbq.dask, "_decode_rows", counting)
    v = vbq.dask.decompress(big)["v"]
    assert v.chunks[0] == (1 << 20,) * 3  # one chunk per coded block
    assert decoded == []  # nothing decoded before compute
    part = v[(1 << 20) + 5:(1 << 20) + 9].compute(scheduler="sync")
    np.testing.assert_array_equal(part, vbq.open(big).rows("v", (1 << 20) + 5, 4))
    assert decoded == [(1 << 20, 1 << 20)]  # the second block alone


def test_escapes_match_too(client):
    # Outliers far beyond the prior escape (their means travel in the file); rare
    # code points escape by the whole tensor's counts, in the plan on a worker.
    rng = np.random.default_rng(8)
    mu, sigma = posterior(rng, (3000, 30))
    mu[rng.integers(0, 3000, 40), rng.integers(0, 30, 40)] = rng.standard_normal(40) * 1e4
    expected = vbq.compress({"w": (mu, sigma)}, lam=0.05)
    assert vbq.dask.compress({"w": (da.from_array(mu, chunks=(700, 13)), sigma)}, lam=0.05) == expected
    x = vbq.decompress(expected)["w"]
    big = np.abs(mu) > 100
    np.testing.assert_array_equal(x[big], mu[big])  # escaped: exact
