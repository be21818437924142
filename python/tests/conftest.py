"""Shared fixtures: the `vbq` binary (VBQ_BINARY, set by ctest; else build/vbq) and
HDF5 model files written with h5py in the conventions of formats/hdf5_model.hpp."""
import os
import subprocess

import h5py
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def vbq_binary():
    path = os.environ.get("VBQ_BINARY", os.path.join(ROOT, "build", "vbq"))
    assert os.access(path, os.X_OK), f"the vbq binary is missing: {path} (set VBQ_BINARY)"
    return path


def run_cli(binary, *args):
    """Runs `vbq ARGS`; returns stdout (bytes), failing with its stderr."""
    r = subprocess.run([binary, *map(str, args)], capture_output=True)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout


def posterior(rng, shape, dtype=np.float64, scale=1.0):
    mu = (rng.standard_normal(shape) * scale).astype(dtype)
    sigma = rng.uniform(0.02, 0.4, size=shape).astype(dtype)
    return mu, sigma


def write_model(path, tensors, vocab=None, counts=None, spread="std"):
    """tensors: name -> (mu, sigma); each goes to <name>/mean and <name>/<spread>
    (sigma converted to var or log_std as asked)."""
    with h5py.File(path, "w") as f:
        for name, (mu, sigma) in tensors.items():
            f[name + "/mean"] = mu
            value = {"std": sigma, "var": sigma * sigma, "log_std": np.log(sigma)}[spread]
            f[name + "/" + spread] = value.astype(sigma.dtype)
        if vocab is not None:
            f.create_dataset("vocab", data=vocab, dtype=h5py.string_dtype("utf-8"))
        if counts is not None:
            f["counts"] = np.asarray(counts, dtype=np.uint64)
    return path
