"""gensim KeyedVectors in and out of .vbq containers.

from_keyed_vectors(kv, sigma=S, ...) is `vbq compress vectors.bin --sigma S
[--sigma-from-counts ...]` on the same vectors: one tensor "word" (V x dim) with
the vocabulary, and posterior spreads from the CLI's rule for point estimates
(app/model_codec.hpp assign_spread).
"""
import os

import numpy as np

from . import DEFAULTS, ArgumentError, _rate_settings, _vbq


def _counts(kv):
    """gensim's per-word counts in vocabulary order, or None when it has none."""
    if "count" not in getattr(kv, "expandos", {}):
        return None
    return [int(kv.get_vecattr(w, "count")) for w in kv.index_to_key]


def from_keyed_vectors(kv, sigma, sigma_from_counts=None, lam=None, prior="gauss", refine=0, target_size=None,
                       target_bits_per_dim=None, path=None, threads=0, block_tables=True, include_vocab=True,
                       force=False, coder="rans", levels="inverse-cdf", row_gains=False, center_columns=False):
    """Compresses gensim KeyedVectors (point estimates) to container bytes (or
    writes `path` and returns it).

    sigma: the posterior std VBQ needs (`--sigma S`); point estimates have none.
    sigma_from_counts (`--sigma-from-counts`):
      None      every coordinate gets sigma;
      "counts"  row w gets sigma * sqrt(count_0 / count_w), with gensim's counts
                (kv.get_vecattr(word, "count")); an ArgumentError if kv has none.
                Note: KeyedVectors.load_word2vec_format without fvocab= invents
                counts (vocab size - rank); load with fvocab= or use "zipf".
      "zipf"    the same with count_w ~ 1 / (w + 1) (vocabulary most frequent first);
      "auto"    "counts" when kv has counts, else "zipf";
      a path    a word2vec vocabulary file ("word count" per line).
    The other settings are vbq.compress's (CLI defaults). The tensor is stored as
    "word", float32 unless kv.vectors is float64, with no mean path (as the CLI
    stores a word2vec file).
    """
    lam, target_bytes, target_bpd = _rate_settings(lam, target_size, target_bits_per_dim)
    vectors = np.asarray(kv.vectors)
    if vectors.ndim != 2 or vectors.shape[0] == 0:
        raise ArgumentError("the KeyedVectors hold no vectors")
    vocab = [str(w) for w in kv.index_to_key]
    counts, counts_file, rule = [], "", "constant"
    if sigma_from_counts is not None:
        if sigma_from_counts == "auto":
            sigma_from_counts = "counts" if _counts(kv) is not None else "zipf"
        if sigma_from_counts == "zipf":
            rule = "zipf"
        elif sigma_from_counts == "counts":
            counts = _counts(kv)
            if counts is None:
                raise ArgumentError("the KeyedVectors have no 'count' attribute: use sigma_from_counts='zipf' "
                                    "or a vocabulary file")
            rule = "counts"
        elif isinstance(sigma_from_counts, (str, os.PathLike)):
            counts_file, rule = os.fspath(sigma_from_counts), "counts"
        else:
            raise ArgumentError(f"sigma_from_counts must be None, 'counts', 'zipf', 'auto' or a path, "
                                f"got {sigma_from_counts!r}")
    out, _ = _vbq.compress_arrays(
        [("word", "", vectors, None, vectors.dtype != np.float64)], vocab, counts, lam=lam, prior=str(prior),
        refine=int(refine), block_tables=bool(block_tables), threads=int(threads), include_vocab=bool(include_vocab),
        target_bytes=target_bytes, target_bits_per_dim=target_bpd, spread_scale=float(sigma), spread_rule=rule,
        counts_file=counts_file, path="" if path is None else os.fspath(path), force=bool(force), coder=str(coder),
        levels=str(levels), row_gains=bool(row_gains), center_columns=bool(center_columns))
    return out if path is None else path


def to_keyed_vectors(container, tensor=None):
    """gensim KeyedVectors from what vbq.open returns (or a path / bytes): the
    decoded word vectors with the container's vocabulary. tensor: default
    "word", else the container's only tensor. Rows without a vocabulary get
    keys "0", "1", ...
    """
    from gensim.models import KeyedVectors

    from . import Container
    c = container if isinstance(container, Container) else Container(container)
    if tensor is None:
        if "word" in c:
            tensor = "word"
        elif len(c) == 1:
            tensor = c.names[0]
        else:
            raise ArgumentError("the container has several tensors and none named 'word'; choose one: " +
                                ", ".join(c.names))
    vectors = c[tensor]
    if vectors.ndim != 2:
        raise ArgumentError(f"tensor '{tensor}' has shape {vectors.shape}, not (words, dim)")
    vocab = c.vocab
    keys = vocab if len(vocab) == vectors.shape[0] else [str(i) for i in range(vectors.shape[0])]
    kv = KeyedVectors(vector_size=vectors.shape[1], count=0, dtype=vectors.dtype)
    kv.add_vectors(keys, vectors)
    return kv


__all__ = ["from_keyed_vectors", "to_keyed_vectors", "DEFAULTS"]
