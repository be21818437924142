"""Compress and decompress dask arrays (chunked HDF5, zarr, ...) on a dask cluster.

compress({name: (mu, sigma)}) writes the SAME bytes as vbq.compress (and so as
`vbq compress`) for the same settings, whatever the chunking. Each tensor is
first viewed in storage order and rechunked at the container's block
boundaries (one chunk per coded block: the input's chunks need not align with
anything), then:

  pass 1 (workers)  the prior and the table statistics. The paper's prior
                    N(0, mean mu^2) comes from a floating-point sum, which
                    depends on its order; the C++ fit sums in storage order, so
                    the workers fold the blocks in that order, a chain of tasks
                    each continuing the running sum of the previous block (only
                    a float moves between tasks). Then every block runs
                    Algorithm 1 and the escape test under that prior (its code
                    keys stay on its worker) and sends the histogram of its keys
                    to one task, which merges them and plans the tensor's coding:
                    rare code points escaped by the whole tensor's counts,
                    alphabet, frequency tables (plan_vbq_tensor in C++).
  pass 2 (workers)  every block is encoded where its keys are (rANS bytes and
                    its escaped means) under the plan (encode_vbq_block).
  client            gathers the plan and the encoded blocks and assembles the
                    container.

Supported settings: lam (a fixed lambda), prior "gauss" (the paper's, the
default), "gauss-fit" or "wide:K", block_tables, include_vocab/vocab. Not supported
(UnsupportedError; use vbq.compress on arrays that fit in memory): other priors
and "auto" (they fit on the whole tensor), refine > 0 (refinement needs the
whole tensor's code statistics at every pass), target_size /
target_bits_per_dim (rate control compresses many times).

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

from . import (DEFAULTS, ArgumentError, Container, UnsupportedError, _float32, _hdf5_order, _mean_path,
               _rate_settings, _vbq)

SUPPORTED_PRIORS = ("gauss", "gauss-fit", "wide:K")


def _fitted_from_sums(prior):
    """Whether the prior spec is fitted from the sums of the means (gauss, gauss-fit, wide:K)."""
    if prior in ("gauss", "gauss-fit"):
        return True
    try:
        return _vbq.wide_prior_factor(str(prior)) > 0
    except ArgumentError:  # a malformed K: as unsupported as any other spec here
        return False


def _fold_sum(carry, block):
    return _vbq.fold_sum(carry, block)


def _fold_squares(carry, block, mean):
    return _vbq.fold_squares(carry, block, mean)


def _gaussian_prior(mean, squares, count, spec):
    return _vbq.gaussian_prior(mean, squares, count, spec)


def _storage_order_blocks(x, block_symbols):
    """x as a 1-D dask array in row-major storage order, one chunk per container
    block of block_symbols elements (the last may be shorter)."""
    if x.ndim > 1:
        if any(len(c) > 1 for c in x.chunks[1:]):  # whole rows first, so that reshape keeps the order cheaply
            x = x.rechunk({axis: -1 for axis in range(1, x.ndim)})
        x = x.reshape(-1)
    return x.rechunk(block_symbols)


def _prior_graph(x, prior):
    """(graph, key) of (family, parameters): fit_gaussian_prior's sums as a
    chain of folds, one task per chunk of x (1-D, storage order), in order (a
    flat graph: nested delayed calls would make building it quadratic in the
    number of chunks)."""
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
    dsk[out] = (_gaussian_prior, mean, carry, x.size, str(prior))
    return dsk, out


def _quantize(name, mu, sigma, prior, lam, threads, offset, shape):
    family, parameters = prior
    return _vbq.quantize_chunk(name, mu, sigma, family, list(parameters), lam, _vbq.MAX_RATE_BITS, threads, offset,
                               list(shape))


def _histograms(keys, block_symbols):
    return _vbq.block_histograms(keys, block_symbols)


def _encode(plan, first_block, keys, mu):
    return _vbq.encode_chunk(plan, first_block, keys, mu)


def _plan(histograms, prior, name, float32, lam, block_tables, shape):
    family, parameters = prior
    blocks = [h for chunk in histograms for h in chunk]
    return _vbq.plan_tensor(blocks, name, _mean_path(name), float32, family, list(parameters), lam,
                            _vbq.MAX_RATE_BITS, block_tables, list(shape))


def _tensor_tasks(name, mu, sigma, float32, prior, lam, block_tables, threads):
    """The graph of one tensor's two passes: (graph, plan key, [encoded chunk keys])."""
    shape = tuple(int(d) for d in mu.shape)
    block_symbols = int(_vbq.row_block_symbols(list(shape)))
    fm, fs = _storage_order_blocks(mu, block_symbols), _storage_order_blocks(sigma, block_symbols)
    dsk, prior_key = _prior_graph(fm, prior)
    token = dask.base.tokenize(fm, fs, prior, lam, block_tables, threads, name, float32)
    keys, hist, enc = "vbq-keys-" + token, "vbq-hist-" + token, "vbq-blocks-" + token
    plan = "vbq-plan-" + token
    offsets = np.cumsum((0,) + fm.chunks[0])
    for i, (m, s) in enumerate(zip(flatten(fm.__dask_keys__()), flatten(fs.__dask_keys__()))):
        first_block = int(offsets[i]) // block_symbols  # chunks are whole blocks
        dsk[(keys, i)] = (_quantize, name, m, s, prior_key, lam, threads, int(offsets[i]), shape)
        dsk[(hist, i)] = (_histograms, (keys, i), block_symbols)
        dsk[(enc, i)] = (_encode, plan, first_block, (keys, i), m)
    n = len(fm.chunks[0])
    dsk[plan] = (_plan, [(hist, i) for i in range(n)], prior_key, name, float32, lam, block_tables, shape)
    graph = HighLevelGraph.from_collections(plan, dsk, dependencies=[fm, fs])
    return graph, plan, [(enc, i) for i in range(n)]


def _as_dask(a):
    return a if isinstance(a, da.Array) else da.from_array(np.asarray(a))


def compress(tensors, lam=None, prior="gauss", refine=0, target_size=None, target_bits_per_dim=None, path=None,
             block_tables=True, vocab=None, include_vocab=True, force=False, threads_per_task=1, timings=None):
    """Compresses {name: (mu, sigma)} of dask arrays (numpy arrays are wrapped)
    on the current dask scheduler (a distributed Client if one is active);
    returns the container's bytes, or writes `path` atomically and returns it.
    Same bytes as vbq.compress with the same settings; see the module docstring
    for the two passes and the supported settings (others: UnsupportedError).

    threads_per_task: C++ threads inside each quantization task (keep 1 with one
    dask thread per core); it never changes the bytes. timings: a dict to
    receive the seconds of the cluster's work ("cluster": both passes and the
    gathering) and of the client's assembly ("assemble").
    """
    lam, _, _ = _rate_settings(lam, target_size, target_bits_per_dim)
    if target_size is not None or target_bits_per_dim is not None:
        raise UnsupportedError("vbq.dask.compress does not do rate control (target_size, target_bits_per_dim): "
                               "give lam, or use vbq.compress")
    if not _fitted_from_sums(prior):
        raise UnsupportedError(f"vbq.dask.compress supports the priors {', '.join(SUPPORTED_PRIORS)}, not {prior!r}: "
                               "the others fit on the whole tensor; use vbq.compress")
    if refine:
        raise UnsupportedError("vbq.dask.compress does not refine (refine=0): refinement needs the whole tensor")
    if not isinstance(tensors, dict) or not tensors:
        raise ArgumentError("tensors must be a nonempty dict name -> (mu, sigma) of dask arrays")
    graphs, plans, chunks = [], [], []
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
        graph, plan, encoded = _tensor_tasks(name, mu, sigma, _float32(mu.dtype, name), prior, lam,
                                             bool(block_tables), int(threads_per_task))
        graphs.append(graph)
        plans.append(plan)
        chunks.append(encoded)

    start = time.perf_counter()
    graph = HighLevelGraph.merge(*graphs)
    # Each tensor's tasks are one layer of the graph, named by its plan's key.
    results = dask.compute(*[Delayed(k, graph, layer=k) for k in plans],
                           *[Delayed(k, graph, layer=plan) for plan, encoded in zip(plans, chunks) for k in encoded])
    gathered = time.perf_counter()
    plans_done, blocks, encoded = results[:len(plans)], results[len(plans):], []
    for plan, n in zip(plans_done, (len(c) for c in chunks)):
        encoded.append(_vbq.finish_tensor(plan, list(blocks[:n])))
        blocks = blocks[n:]
    vocab = list(vocab or []) if include_vocab else []
    out = _vbq.assemble(encoded, vocab, "" if path is None else os.fspath(path), bool(force))
    if timings is not None:
        timings.update(cluster=gathered - start, assemble=time.perf_counter() - gathered)
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
