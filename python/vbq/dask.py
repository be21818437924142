"""Compress and decompress dask arrays (chunked HDF5, zarr, ...) on a dask cluster.

compress({name: (mu, sigma)}) writes the SAME bytes as vbq.compress (and so as
`vbq compress`) for the same settings, whatever the chunking:

  pass 1 (workers)  the prior. The paper's prior N(0, mean mu^2) comes from a
                    floating-point sum, which depends on its order; the C++
                    fit sums in storage order, so the workers fold the chunks in
                    that order, a chain of tasks each continuing the running sum
                    of the previous chunk (arrays chunked along later axes are
                    first rechunked to whole rows). Each fold is one pass over a
                    chunk already on its worker; only a float moves between tasks.
  pass 2 (workers)  Algorithm 1 and the escape test on every chunk under that
                    prior (both per coordinate, so chunks need not align with the
                    container's blocks): one code key per coordinate.
  client            the code keys in storage order, with the means (escaped
                    elements store theirs), go through the rest of the encoder
                    (rare code points escaped, code-point table, block tables,
                    rANS blocks) and the tensors into one container.

Supported settings: lam (a fixed lambda), prior "gauss" (the paper's, default)
or "gauss-fit", block_tables, include_vocab/vocab. Not supported (ArgumentError;
use vbq.compress on arrays that fit in memory): other priors and "auto" (they fit
on the whole tensor), refine > 0 (refinement needs the whole tensor's code
statistics), target_size / target_bits_per_dim (rate control compresses many
times).

decompress(path_or_bytes) gives dask arrays whose chunks are runs of whole coded
blocks, each decoded on its own when computed.
"""
import operator
import os
import time

import dask
import dask.array as da
import numpy as np
from dask.core import flatten
from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph

from . import (DEFAULTS, ArgumentError, Container, _float32, _hdf5_order, _mean_path, _rate_settings, _vbq)

SUPPORTED_PRIORS = ("gauss", "gauss-fit")


def _fold_sum(carry, block):
    return _vbq.fold_sum(carry, block)


def _fold_squares(carry, block, mean):
    return _vbq.fold_squares(carry, block, mean)


def _gaussian_prior(mean, squares, count):
    return _vbq.gaussian_prior(mean, squares, count)


def _storage_order_rows(x):
    """x chunked along its first axis only, so that its blocks, in order, are x
    in row-major storage order."""
    if x.ndim > 1 and any(len(c) > 1 for c in x.chunks[1:]):
        x = x.rechunk({axis: -1 for axis in range(1, x.ndim)})
    return x


def _prior_task(mu, prior):
    """A delayed (family, parameters): fit_gaussian_prior's sums as a chain of
    folds, one task per chunk in storage order (a flat graph: nested delayed
    calls would make building it quadratic in the number of chunks)."""
    x = _storage_order_rows(mu)
    blocks = list(flatten(x.__dask_keys__()))
    token = dask.base.tokenize(x, prior)
    dsk, mean = {}, 0.0
    if prior == "gauss-fit":
        carry = 0.0
        for i, block in enumerate(blocks):
            dsk[("vbq-sum-" + token, i)] = (_fold_sum, carry, block)
            carry = ("vbq-sum-" + token, i)
        mean = "vbq-mean-" + token
        dsk[mean] = (operator.truediv, carry, x.size)
    carry = 0.0
    for i, block in enumerate(blocks):
        dsk[("vbq-squares-" + token, i)] = (_fold_squares, carry, block, mean)
        carry = ("vbq-squares-" + token, i)
    out = "vbq-prior-" + token
    dsk[out] = (_gaussian_prior, mean, carry, x.size)
    return Delayed(out, HighLevelGraph.from_collections(out, dsk, dependencies=[x]))


def _quantize_block(mu, sigma, tensor, family, parameters, lam, threads, block_info=None):
    where = ""
    if block_info and 0 in block_info:
        where = " of the chunk starting at [" + ", ".join(str(lo) for lo, _ in block_info[0]["array-location"]) + "]"
    return _vbq.quantize_chunk(tensor, mu, sigma, family, list(parameters), lam, _vbq.MAX_RATE_BITS, threads, where)


def _as_dask(a):
    return a if isinstance(a, da.Array) else da.from_array(np.asarray(a))


def compress(tensors, lam=None, prior="gauss", refine=0, target_size=None, target_bits_per_dim=None, path=None,
             block_tables=True, vocab=None, include_vocab=True, force=False, threads_per_task=1, client_threads=0,
             timings=None):
    """Compresses {name: (mu, sigma)} of dask arrays (numpy arrays are wrapped)
    on the current dask scheduler (a distributed Client if one is active);
    returns the container's bytes, or writes `path` atomically and returns it.
    Same bytes as vbq.compress with the same settings; see the module docstring
    for the two passes and the supported settings (others: ArgumentError).

    threads_per_task: C++ threads inside each quantization task (keep 1 with one
    dask thread per core); client_threads: threads of the client's entropy
    stage (0 = all cores). Neither changes the bytes. timings: a dict to receive
    the seconds of each phase (prior, quantize, encode).
    """
    lam, _, _ = _rate_settings(lam, target_size, target_bits_per_dim)
    if target_size is not None or target_bits_per_dim is not None:
        raise ArgumentError("vbq.dask.compress does not do rate control (target_size, target_bits_per_dim): "
                            "give lam, or use vbq.compress")
    if prior not in SUPPORTED_PRIORS:
        raise ArgumentError(f"vbq.dask.compress supports the priors {', '.join(SUPPORTED_PRIORS)}, not {prior!r}: "
                            "the others fit on the whole tensor; use vbq.compress")
    if refine:
        raise ArgumentError("vbq.dask.compress does not refine (refine=0): refinement needs the whole tensor")
    if not isinstance(tensors, dict) or not tensors:
        raise ArgumentError("tensors must be a nonempty dict name -> (mu, sigma) of dask arrays")
    items = []
    for name in _hdf5_order(tensors):
        pair = tensors[name]
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ArgumentError(f"tensor '{name}': expected a pair (mu, sigma)")
        mu, sigma = (_as_dask(a) for a in pair)
        if mu.ndim < 1 or mu.size == 0:
            raise ArgumentError(f"tensor '{name}': the mean must have rank >= 1 and elements")
        if sigma.shape != mu.shape:
            raise ArgumentError(f"tensor '{name}': sigma has shape {sigma.shape}, the mean {mu.shape}")
        _float32(sigma.dtype, name)
        items.append((name, mu, sigma, _float32(mu.dtype, name)))

    clock = {"prior": 0.0, "quantize": 0.0, "encode": 0.0}
    start = time.perf_counter()
    # Pass 1: every tensor's prior, in one graph.
    priors = dask.compute(*[_prior_task(mu, prior) for _, mu, _, _ in items])
    clock["prior"] = time.perf_counter() - start
    # Pass 2, tensor by tensor (the code keys of one tensor on the client at a time).
    encoded = []
    for (name, mu, sigma, float32), (family, parameters) in zip(items, priors):
        keys = da.map_blocks(_quantize_block, mu, sigma.rechunk(mu.chunks), dtype=np.uint64, tensor=name,
                             family=family, parameters=tuple(parameters), lam=lam, threads=threads_per_task)
        start = time.perf_counter()
        # The client needs the means too: escaped elements store theirs.
        keys, means = dask.compute(keys, mu)
        clock["quantize"] += time.perf_counter() - start
        start = time.perf_counter()
        encoded.append(_vbq.encode_keys(np.ascontiguousarray(keys), means, name, _mean_path(name), float32, family,
                                        list(parameters), lam, _vbq.MAX_RATE_BITS, bool(block_tables),
                                        int(client_threads)))
        clock["encode"] += time.perf_counter() - start
    if timings is not None:
        timings.update(clock)
    vocab = list(vocab or []) if include_vocab else []
    out = _vbq.assemble(encoded, vocab, "" if path is None else os.fspath(path), bool(force))
    return out if path is None else path


# ---- decompress ---------------------------------------------------------------

_OPEN = {}  # token -> Container, per worker process: a container is parsed once, not per chunk


def _opened(source, token):
    c = _OPEN.get(token)
    if c is None:
        if len(_OPEN) >= 4:
            _OPEN.pop(next(iter(_OPEN)))
        c = _OPEN[token] = Container(source)
    return c


def _decode_rows(source, token, name, first, count):
    return _opened(source, token).rows(name, first, count)


def decompress(path_or_bytes, chunk_rows=None):
    """dict name -> dask array of the decoded tensor (its dtype and shape). Each
    chunk is a run of whole rows, by default the rows of one coded block (or a
    multiple given by chunk_rows, rounded up to whole blocks), and decodes alone
    when computed; the container is parsed once per worker process."""
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        data = bytes(path_or_bytes)
        token = dask.base.tokenize(data)
        source = dask.delayed(data, pure=True)
    else:
        path = os.path.abspath(os.fspath(path_or_bytes))
        st = os.stat(path)
        token = dask.base.tokenize(path, st.st_mtime_ns, st.st_size)
        source = path
    c = _opened(source if isinstance(source, str) else data, token)
    out = {}
    for name in c.names:
        meta = c.meta(name)
        shape, dtype = tuple(meta["shape"]), np.dtype(meta["dtype"])
        step = c.block_rows(name)
        if chunk_rows:
            step = -(-int(chunk_rows) // step) * step
        parts = []
        for first in range(0, shape[0], step):
            count = min(step, shape[0] - first)
            part = dask.delayed(_decode_rows, pure=True)(source, token, name, first, count)
            parts.append(da.from_delayed(part, (count,) + shape[1:], dtype=dtype))
        out[name] = da.concatenate(parts, axis=0)
    return out


__all__ = ["compress", "decompress", "SUPPORTED_PRIORS", "DEFAULTS"]
