"""vbq.compress writes the bytes `vbq compress` writes, for HDF5 files written by
h5py (through h5py objects, paths and plain arrays), and reads what it reads."""
import h5py
import numpy as np
import pytest

import vbq
from conftest import posterior, run_cli, write_model

SETTINGS = [  # (CLI flags, vbq.compress keywords)
    ([], {}),
    (["--lambda", "0.25"], {"lam": 0.25}),
    (["--prior", "laplace"], {"prior": "laplace"}),
    (["--prior", "auto"], {"prior": "auto"}),
    (["--refine", "1"], {"refine": 1}),
    (["--one-table"], {"block_tables": False}),
    (["--no-vocab"], {"include_vocab": False}),
    (["--target-size", "30000"], {"target_size": 30000}),
    (["--target-bits-per-dim", "1.5"], {"target_bits_per_dim": 1.5}),
    (["--coder", "ctx", "--levels", "wcentroid", "--row-gains"], {"coder": "ctx", "levels": "wcentroid", "row_gains": True}),
    (["--center-columns", "--row-gains", "--prior", "auto"], {"center_columns": True, "row_gains": True, "prior": "auto"}),
    (["--spread-power", "0.6", "--prior", "wide:8", "--refine", "1", "--coder", "ctx"],
     {"spread_power": 0.6, "prior": "wide:8", "refine": 1, "coder": "ctx"}),
]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    rng = np.random.default_rng(11)
    tensors = {
        "word": posterior(rng, (600, 32), np.float32),
        "a.b": posterior(rng, (4000,), np.float64, scale=0.1),
        "layer1/weight": posterior(rng, (30, 20, 3), np.float32),
        "a": posterior(rng, (100, 10), np.float64),
    }
    vocab = [f"w{i}" for i in range(600)]
    path = tmp_path_factory.mktemp("h5") / "model.h5"
    write_model(path, tensors, vocab=vocab)
    return path, tensors, vocab


def cli_bytes(binary, h5, tmp_path, flags):
    out = tmp_path / "cli.vbq"
    run_cli(binary, "compress", h5, "-o", out, "-f", *flags)
    return out.read_bytes()


@pytest.mark.parametrize("flags,kwargs", SETTINGS, ids=[" ".join(f) or "defaults" for f, _ in SETTINGS])
def test_same_bytes_as_the_cli(vbq_binary, model, tmp_path, flags, kwargs):
    h5, tensors, vocab = model
    expected = cli_bytes(vbq_binary, h5, tmp_path, flags)
    assert vbq.compress(str(h5), **kwargs) == expected
    if len(kwargs) == 0 or "lam" in kwargs:  # h5py objects take the path's route; the slow settings skip it
        with h5py.File(h5, "r") as f:
            assert vbq.compress(f, **kwargs) == expected
    # The same arrays as a dict (float32 stays float32; sigma given as std).
    assert vbq.compress(tensors, vocab=vocab, **kwargs) == expected


def test_metadata_matches_what_the_cli_records(vbq_binary, model, tmp_path):
    h5, tensors, _ = model
    c = vbq.open(cli_bytes(vbq_binary, h5, tmp_path, []))
    for name in c.names:
        m = c.meta(name)
        assert m["mean_path"] == name + "/mean"
        assert m["dtype"] == str(tensors[name][0].dtype)


@pytest.mark.parametrize("spread", ["var", "log_std"])
def test_other_spread_conventions_through_h5py(vbq_binary, tmp_path, spread):
    rng = np.random.default_rng(3)
    h5 = write_model(tmp_path / "m.h5", {"w": posterior(rng, (300, 20), np.float32)}, spread=spread)
    expected = cli_bytes(vbq_binary, h5, tmp_path, [])
    with h5py.File(h5, "r") as f:
        assert vbq.compress(f) == expected


def test_a_subgroup_and_an_open_writable_file(vbq_binary, tmp_path):
    rng = np.random.default_rng(5)
    tensors = {"u": posterior(rng, (200, 8)), "v": posterior(rng, (50,))}
    h5 = write_model(tmp_path / "m.h5", tensors)
    expected = cli_bytes(vbq_binary, h5, tmp_path, [])
    with h5py.File(tmp_path / "nested.h5", "w") as f:
        g = f.create_group("model")
        for name, (mu, sigma) in tensors.items():
            g[name + "/mean"], g[name + "/std"] = mu, sigma
        assert vbq.compress(g) == expected  # the group's tensors, named relative to it
        # The file itself, open for writing: the C++ reader opens it by name.
        assert vbq.compress(f, select=["model/u"]) == vbq.compress({"model/u": tensors["u"]})
    # An in-memory file with no file on disk.
    with h5py.File("mem.h5", "w", driver="core", backing_store=False) as f:
        for name, (mu, sigma) in tensors.items():
            f[name + "/mean"], f[name + "/std"] = mu, sigma
        assert vbq.compress(f) == expected


def test_decompress_matches_the_cli(vbq_binary, model, tmp_path):
    h5, _, _ = model
    out = tmp_path / "m.vbq"
    vbq.compress(str(h5), path=out)
    run_cli(vbq_binary, "decompress", out, "-o", tmp_path / "r.h5")
    ours = vbq.decompress(out)
    with h5py.File(tmp_path / "r.h5", "r") as f:
        for name, x in ours.items():
            restored = f[name + "/mean"][...]
            assert restored.dtype == x.dtype
            np.testing.assert_array_equal(restored, x)
        assert [w.decode() if isinstance(w, bytes) else w for w in f["vocab"][...]] == vbq.open(out).vocab


def test_hdf5_errors_keep_their_category(tmp_path):
    with h5py.File(tmp_path / "bad.h5", "w") as f:
        f["w/mean"] = np.zeros((3, 2))
        f["w/std"] = -np.ones((3, 2))
    with pytest.raises(vbq.FormatError, match=r"std\[0\] \(row 0, col 0\)"):
        vbq.compress(tmp_path / "bad.h5")
    with pytest.raises(vbq.ArgumentError, match="nope"):
        vbq.compress(tmp_path / "bad.h5", select=["nope"])
