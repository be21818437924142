"""vbq.compress / open / decompress on numpy arrays: round trips, layout, errors."""
import os
import struct

import numpy as np
import pytest

import vbq
from conftest import posterior, run_cli


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_defaults_are_the_cli_defaults(vbq_binary):
    help_text = run_cli(vbq_binary, "compress", "--help").decode()
    assert "--lambda ] arg (=1)" in help_text and "--prior arg (=gauss)" in help_text and "--refine arg (=0)" in help_text
    assert vbq.DEFAULTS == dict(lam=1.0, prior="gauss", refine=0, block_tables=True, threads=0, include_vocab=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5000,), (300, 40), (20, 6, 7)])
def test_round_trip_keeps_dtype_shape_and_stays_near_the_mean(rng, dtype, shape):
    mu, sigma = posterior(rng, shape, dtype)
    blob = vbq.compress({"t": (mu, sigma)})
    assert isinstance(blob, bytes) and blob[:4] == vbq.compress({"t": (mu, sigma)})[:4]
    c = vbq.open(blob)
    x = c["t"]
    assert x.dtype == dtype and x.shape == shape
    # VBQ moves a mean by about its posterior std at lambda = 1, never by many.
    assert np.all(np.abs(x - mu) <= 6 * sigma + 1e-6)
    assert c.meta("t")["mean_path"] == "t/mean"
    np.testing.assert_array_equal(vbq.decompress(blob)["t"], x)


def test_inputs_are_not_modified_and_float64_needs_no_copy(rng):
    mu, sigma = posterior(rng, (200, 30))
    before = mu.copy(), sigma.copy()
    vbq.compress({"w": (mu, sigma)})
    np.testing.assert_array_equal(mu, before[0])
    np.testing.assert_array_equal(sigma, before[1])
    # A strided view is converted first and encodes as its contiguous copy.
    big_mu, big_sigma = posterior(rng, (200, 60))
    assert vbq.compress({"w": (big_mu[:, ::2], big_sigma[:, ::2])}) == \
        vbq.compress({"w": (np.ascontiguousarray(big_mu[:, ::2]), np.ascontiguousarray(big_sigma[:, ::2]))})


def test_dict_order_does_not_matter_tensors_go_in_hdf5_order(rng):
    t = {n: posterior(rng, (50, 8)) for n in ["b", "a", "a.b", "layer1/weight"]}
    blob = vbq.compress(t)
    assert vbq.open(blob).names == ["a", "a.b", "b", "layer1/weight"]  # sorted bytewise, as read_model
    assert vbq.compress(dict(reversed(list(t.items())))) == blob


def test_rows_words_vocab_and_info(rng, tmp_path, vbq_binary):
    mu, sigma = posterior(rng, (1000, 16))
    vocab = [f"w{i}" for i in range(999)] + ["café"]
    path = tmp_path / "m.vbq"
    assert vbq.compress({"word": (mu, sigma)}, vocab=vocab, path=path) == path
    c = vbq.open(path)
    full = c["word"]
    assert c.vocab == vocab and c.names == ["word"] and "word" in c and len(c) == 1
    np.testing.assert_array_equal(c.row("word", 17), full[17])
    np.testing.assert_array_equal(c.row("word", -1), full[999])
    np.testing.assert_array_equal(c.row("word", "café"), full[999])
    np.testing.assert_array_equal(c.rows("word", 10, 5), full[10:15])
    assert c.info() == run_cli(vbq_binary, "info", path).decode()
    # vbq get prints the same values (%.9g).
    got = run_cli(vbq_binary, "get", path, "w5").decode().split()
    np.testing.assert_allclose([float(v) for v in got[-16:]], full[5], rtol=1e-8)
    assert not vbq.open(vbq.compress({"word": (mu, sigma)}, vocab=vocab, include_vocab=False)).vocab


def test_writing_a_path_is_atomic_and_refuses_an_existing_file(rng, tmp_path):
    mu, sigma = posterior(rng, (100,))
    path = tmp_path / "x.vbq"
    vbq.compress({"t": (mu, sigma)}, path=str(path))
    with pytest.raises(vbq.ArgumentError):
        vbq.compress({"t": (mu, sigma)}, path=str(path))
    vbq.compress({"t": (mu, sigma)}, path=str(path), force=True, lam=4)
    assert vbq.open(path).meta("t")["lambda"] == 4
    assert os.listdir(tmp_path) == ["x.vbq"]


def test_rate_control_meets_the_target(rng):
    mu, sigma = posterior(rng, (400, 50))
    blob = vbq.compress({"w": (mu, sigma)}, target_size=12000)
    assert 0.99 * 12000 <= len(blob) <= 12000
    blob = vbq.compress({"w": (mu, sigma)}, target_bits_per_dim=2.0)
    assert len(blob) <= 2.0 * mu.size / 8
    with pytest.raises(vbq.ArgumentError, match="at most one"):
        vbq.compress({"w": (mu, sigma)}, lam=1.0, target_size=1000)


def test_error_categories(rng, tmp_path):
    mu, sigma = posterior(rng, (100, 4))
    blob = vbq.compress({"w": (mu, sigma)})
    cases = []
    with pytest.raises(vbq.ArgumentError) as e:
        vbq.compress({"w": (mu, -sigma)})
    cases.append(e.value)
    assert "tensor 'w': sigma[0, 0]" in str(e.value)
    bad = mu.copy()
    bad[3, 2] = np.nan
    with pytest.raises(vbq.ArgumentError, match=r"mean\[3, 2\] is NaN"):
        vbq.compress({"w": (bad, sigma)})
    with pytest.raises(vbq.ArgumentError, match="prior"):
        vbq.compress({"w": (mu, sigma)}, prior="cauchy")
    with pytest.raises(vbq.ArgumentError, match="no tensor 'x'"):
        vbq.open(blob)["x"]
    with pytest.raises(vbq.IoError) as e:
        vbq.open(tmp_path / "missing.vbq")
    assert isinstance(e.value, OSError)
    cases.append(e.value)
    with pytest.raises(vbq.CorruptError) as e:
        vbq.open(blob[:-5])
    cases.append(e.value)
    flipped = bytearray(blob)
    flipped[len(blob) // 2] ^= 0x40
    with pytest.raises(vbq.CorruptError, match="<bytes>"):
        vbq.open(bytes(flipped))
    not_hdf5 = tmp_path / "x.h5"
    not_hdf5.write_bytes(b"hello, not hdf5")
    with pytest.raises(vbq.FormatError) as e:
        vbq.compress(not_hdf5)
    cases.append(e.value)
    future = bytearray(blob)
    future[4] = 9  # major version (formats/SPEC.md: magic, then major, minor)
    with pytest.raises((vbq.UnsupportedError, vbq.CorruptError)) as e:
        vbq.open(bytes(future))
    cases.append(e.value)
    assert [x.category for x in cases][:4] == ["argument", "io", "corrupt", "format"]
    assert all(isinstance(x, vbq.Error) and str(x) for x in cases)


def test_compress_releases_the_gil(rng):
    # With the GIL held for the C++ call, this thread would stall for all of it.
    import threading
    import time
    mu, sigma = posterior(rng, (3_000_000,))
    done, took = threading.Event(), []

    def work():
        start = time.perf_counter()
        vbq.compress({"w": (mu, sigma)}, threads=1)
        took.append(time.perf_counter() - start)
        done.set()

    worker = threading.Thread(target=work)
    last, longest_stall = time.perf_counter(), 0.0  # from before the start: the worker may run first
    worker.start()
    while not done.is_set():
        now = time.perf_counter()
        longest_stall, last = max(longest_stall, now - last), now
    worker.join()
    # Held, the stall would be the quantization and coding: most of `took`.
    assert longest_stall < 0.25 * took[0], (longest_stall, took[0])
