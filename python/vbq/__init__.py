"""vbq: Variational Bayesian Quantization (Yang, Bamler & Mandt, ICML 2020) from Python.

A thin layer over the C++ library of this repository: the bytes it writes are the
bytes `vbq compress` writes for the same tensors and settings.

    import vbq
    blob = vbq.compress({"word": (mu, sigma)})          # .vbq container bytes
    c = vbq.open(blob)                                   # or vbq.open("model.vbq")
    c.names, c.vocab, c["word"], c.row("word", 17)
    vbq.decompress("model.vbq")                          # {name: numpy array}

Submodules: vbq.gensim (KeyedVectors in and out), vbq.dask (compress and
decompress dask arrays on a cluster). Errors are vbq.Error subclasses carrying
the C++ library's category (ArgumentError, IoError, FormatError, CorruptError,
UnsupportedError).
"""
import os as _os

import numpy as _np

from . import _vbq
from ._errors import (ArgumentError, CorruptError, Error, FormatError, InterruptedError_, IoError,
                      UnsupportedError)

__version__ = _vbq.__version__
__all__ = ["compress", "open", "decompress", "Container", "Error", "ArgumentError", "IoError", "FormatError",
           "CorruptError", "UnsupportedError", "DEFAULTS"]

# The defaults of `vbq compress` (vbq compress --help).
DEFAULTS = dict(lam=1.0, prior="gauss", refine=0, block_tables=True, threads=0, include_vocab=True)


def _mean_path(name):
    """Where `vbq compress` records a default-convention tensor's mean: <name>/mean."""
    return name + "/mean"


def _hdf5_order(names):
    """The order `vbq compress` stores an HDF5 file's tensors in: sorted by name,
    byte by byte (read_model in formats/hdf5_model.cpp)."""
    return sorted(names, key=lambda n: n.encode("utf-8"))


def _float32(dtype, name):
    dtype = _np.dtype(dtype)
    if dtype.kind != "f" or dtype.itemsize > 8:
        raise ArgumentError(f"tensor '{name}': dtype {dtype} is not float32 or float64")
    return dtype.itemsize <= 4  # as the HDF5 reader: float16/32 restore as float32


def _rate_settings(lam, target_size, target_bits_per_dim):
    given = [k for k, v in (("lam", lam), ("target_size", target_size),
                            ("target_bits_per_dim", target_bits_per_dim)) if v is not None]
    if len(given) > 1:
        raise ArgumentError("give at most one of lam, target_size, target_bits_per_dim (got " + ", ".join(given) + ")")
    if target_size is not None and (not isinstance(target_size, (int, _np.integer)) or target_size <= 0):
        raise ArgumentError(f"target_size must be a number of bytes > 0, got {target_size!r}")
    if target_bits_per_dim is not None and not target_bits_per_dim > 0:
        raise ArgumentError(f"target_bits_per_dim must be > 0, got {target_bits_per_dim!r}")
    return (DEFAULTS["lam"] if lam is None else float(lam), int(target_size or 0), float(target_bits_per_dim or 0))


def _is_h5py(obj):
    try:
        import h5py
    except ImportError:
        return False
    return isinstance(obj, h5py.Group)


def _hdf5_file_for(group, workdir):
    """A file the C++ reader can open holding `group`'s tensors at its root: the
    group's own file when it is the root of a file on disk, else a copy."""
    import h5py
    f = group.file
    if group.name == "/" and f.driver in ("sec2", "stdio", "fileobj") and _os.path.isfile(f.filename):
        f.flush()
        return f.filename
    path = _os.path.join(workdir, "group.h5")
    with h5py.File(path, "w") as out:
        for key in group:
            group.copy(group[key], out, name=key)
    return path


def compress(tensors, lam=None, prior="gauss", refine=0, target_size=None, target_bits_per_dim=None, path=None,
             threads=0, block_tables=True, vocab=None, include_vocab=True, force=False, select=None, coder="rans",
             levels="inverse-cdf", row_gains=False, center_columns=False, spread_power=1.0):
    """Compresses posteriors to a .vbq container; returns its bytes, or writes
    `path` atomically (refusing an existing file unless force) and returns path.

    tensors: a dict name -> (mu, sigma) of numpy arrays (float32 or float64, any
      shape of rank >= 1; sigma of the same shape, finite and > 0); or an h5py
      File/Group, or the path of an HDF5 file, read as `vbq compress FILE` reads
      it (a group per tensor with `mean` and one of `std`, `var`, `log_std`; the
      paper's q/mean_u...; root `vocab`). For a dict, tensors are stored in the
      order the CLI stores an HDF5 file's (sorted by name, bytewise), each
      with mean_path "<name>/mean" and the dtype of its mean; `vocab` (list of
      str) is stored when given.
    lam: the rate penalty lambda of Eq. 9 (default 1.0, as the CLI). At most one
      of lam, target_size (bytes of the whole file) and target_bits_per_dim (rate
      control: the smallest lambda that fits, as --target-size /
      --target-bits-per-dim) may be given.
    prior, refine, block_tables, include_vocab, threads: as the CLI's --prior
      (gauss, gauss-fit, wide:K, laplace, student, mixture:K, empirical:K, auto),
      --refine, --one-table (block_tables=False), --no-vocab, --threads (0 = all
      cores; the bytes never depend on it).
    coder, levels, row_gains, center_columns, spread_power: as --coder (rans,
      ctx), --levels (inverse-cdf, centroid, wcentroid), --row-gains,
      --center-columns and --spread-power.
    select: tensor names to keep (HDF5 input only; --tensor).

    Arrays: C-contiguous float64 arrays are encoded in place; float32 (or
    strided) arrays are converted to a float64 copy first, since the codec works
    in double. Rate control copies the arrays once. The work releases the GIL.
    """
    lam, target_bytes, target_bpd = _rate_settings(lam, target_size, target_bits_per_dim)
    common = dict(lam=lam, prior=str(prior), refine=int(refine), block_tables=bool(block_tables),
                  threads=int(threads), include_vocab=bool(include_vocab), target_bytes=target_bytes,
                  target_bits_per_dim=target_bpd, path="" if path is None else _os.fspath(path), force=bool(force),
                  coder=str(coder), levels=str(levels), row_gains=bool(row_gains),
                  center_columns=bool(center_columns), spread_power=float(spread_power))
    if isinstance(tensors, (str, _os.PathLike)) or _is_h5py(tensors):
        if vocab is not None:
            raise ArgumentError("vocab is read from the HDF5 file; do not pass it")
        import tempfile
        with tempfile.TemporaryDirectory(prefix="vbq-") as workdir:
            file = _os.fspath(tensors) if not _is_h5py(tensors) else _hdf5_file_for(tensors, workdir)
            out, _ = _vbq.compress_hdf5(file, list(select or []), **common)
    else:
        if select is not None:
            raise ArgumentError("select applies to HDF5 input; pass only the tensors you want")
        out, _ = _vbq.compress_arrays(_tensor_list(tensors), list(vocab or []), [], spread_scale=0.0, spread_rule="",
                                      counts_file="", **common)
    return out if path is None else path


def _tensor_list(tensors):
    """[(name, mean_path, mu, sigma, float32)] in the CLI's order."""
    if not isinstance(tensors, dict) or not tensors:
        raise ArgumentError("tensors must be a nonempty dict name -> (mu, sigma), an h5py File/Group or an HDF5 path")
    items = []
    for name in _hdf5_order(tensors):
        if not isinstance(name, str) or not name or name.startswith("/"):
            raise ArgumentError(f"tensor name {name!r} must be a nonempty str not starting with '/'")
        pair = tensors[name]
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ArgumentError(f"tensor '{name}': expected a pair (mu, sigma)")
        mu, sigma = (_np.asarray(a) for a in pair)
        items.append((name, _mean_path(name), mu, sigma, _float32(mu.dtype, name)))
    return items


def _source(path_or_bytes):
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return _vbq.Container.from_bytes(bytes(path_or_bytes), "<bytes>")
    return _vbq.Container.from_path(_os.fspath(path_or_bytes))


class Container:
    """A parsed .vbq container (vbq.open). The encoded tensors stay in memory;
    each access decodes what it needs.

    names        tensor names, in file order
    vocab        the vocabulary (list of str; empty if none)
    c[name]      the whole tensor decoded: numpy array of its stored dtype and shape
    c.row(name, i)   row i (a word of the vocabulary, or a row number; negative
                 numbers count from the end), decoding only the block holding it
    c.rows(name, first, count)   rows [first, first + count)
    c.info()     the text `vbq info FILE` prints
    c.meta(name) a dict: shape, dtype, mean_path, quantizer, prior, lambda, bytes,
                 bits_per_dim, code_points, tables, block_symbols
    """

    def __init__(self, path_or_bytes):
        self._c = _source(path_or_bytes)
        self._rows_of_word = None

    @property
    def names(self):
        return list(self._c.names)

    @property
    def vocab(self):
        return self._c.vocab

    @property
    def version(self):
        return self._c.version

    @property
    def total_bytes(self):
        return self._c.total_bytes

    def info(self):
        return self._c.info()

    def meta(self, name):
        return self._c.meta(name)

    def __len__(self):
        return len(self._c.names)

    def __iter__(self):
        return iter(self.names)

    def __contains__(self, name):
        return name in self._c.names

    def keys(self):
        return self.names

    def __getitem__(self, name):
        return self._c.decode(name, 0)

    def decode(self, name, threads=0):
        return self._c.decode(name, threads)

    def _row_number(self, name, key):
        rows = self._c.meta(name)["shape"][0]
        if isinstance(key, str):
            if self._rows_of_word is None:
                self._rows_of_word = {w: i for i, w in enumerate(self.vocab)}
            if key not in self._rows_of_word:
                raise ArgumentError(f"'{key}' is not a word of the vocabulary of {self._c.source}")
            return self._rows_of_word[key]
        if not isinstance(key, (int, _np.integer)):
            raise ArgumentError(f"row key must be an int or a vocabulary word, got {type(key).__name__}")
        i = int(key) + rows if key < 0 else int(key)
        if not 0 <= i < rows:
            raise ArgumentError(f"{self._c.source}: tensor '{name}' has {rows} rows; row {key} does not exist")
        return i

    def row(self, name, key):
        return self._c.rows(name, self._row_number(name, key), 1)[0]

    def rows(self, name, first, count):
        return self._c.rows(name, int(first), int(count))

    def block_rows(self, name):
        """Rows per coded block: a row range aligned to these decodes alone."""
        m = self._c.meta(name)
        row_length = int(_np.prod(m["shape"][1:], dtype=_np.int64)) if len(m["shape"]) > 1 else 1
        return max(1, m["block_symbols"] // max(1, row_length))

    def to_dict(self, threads=0):
        return self._c.decode_all(threads)

    def __repr__(self):
        return f"<vbq.Container {self._c.source}: {', '.join(self.names)}>"


def open(path_or_bytes):  # noqa: A001 (the API name)
    """Parses a .vbq container from a path or from bytes (checksums verified)."""
    return Container(path_or_bytes)


def decompress(path_or_bytes, threads=0):
    """Every tensor of a container decoded: dict name -> numpy array (its stored
    dtype and shape), as `vbq decompress` restores them."""
    return Container(path_or_bytes).to_dict(threads)
