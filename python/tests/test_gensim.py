"""vbq.gensim: KeyedVectors -> container bytes equal to `vbq compress vectors.bin
--sigma S [--sigma-from-counts ...]`, and back to KeyedVectors."""
import numpy as np
import pytest
from gensim.models import KeyedVectors

import vbq
import vbq.gensim
from conftest import run_cli


@pytest.fixture(scope="module")
def kv():
    rng = np.random.default_rng(2)
    words = [f"word{i}" for i in range(800)] + ["naïve"]
    kv = KeyedVectors(vector_size=24, count=0, dtype=np.float32)
    kv.add_vectors(words, (rng.standard_normal((len(words), 24)) * 0.3).astype(np.float32))
    for rank, w in enumerate(words):
        kv.set_vecattr(w, "count", 100000 // (rank + 1) + 1)
    return kv


@pytest.mark.parametrize("rule,flags", [(None, []), ("zipf", ["--sigma-from-counts", "zipf"]),
                                        ("counts", ["--sigma-from-counts", "VOCAB"])])
def test_same_bytes_as_the_cli_on_the_word2vec_file(vbq_binary, kv, tmp_path, rule, flags):
    vectors, vocab = tmp_path / "v.bin", tmp_path / "vocab.txt"
    kv.save_word2vec_format(str(vectors), fvocab=str(vocab), binary=True)
    out = tmp_path / "v.vbq"
    run_cli(vbq_binary, "compress", vectors, "-o", out, "--sigma", "0.05",
            *[str(vocab) if f == "VOCAB" else f for f in flags])
    blob = vbq.gensim.from_keyed_vectors(kv, sigma=0.05, sigma_from_counts=rule)
    assert blob == out.read_bytes()
    if rule == "counts":  # the vocabulary file gives the same counts as gensim's
        assert vbq.gensim.from_keyed_vectors(kv, sigma=0.05, sigma_from_counts=str(vocab)) == blob


def test_without_counts_and_auto(kv):
    plain = KeyedVectors(vector_size=kv.vector_size, count=0, dtype=np.float32)
    plain.add_vectors(kv.index_to_key, kv.vectors)
    with pytest.raises(vbq.ArgumentError, match="count"):
        vbq.gensim.from_keyed_vectors(plain, sigma=0.05, sigma_from_counts="counts")
    assert vbq.gensim.from_keyed_vectors(plain, sigma=0.05, sigma_from_counts="auto") == \
        vbq.gensim.from_keyed_vectors(plain, sigma=0.05, sigma_from_counts="zipf")
    assert vbq.gensim.from_keyed_vectors(kv, sigma=0.05, sigma_from_counts="auto") == \
        vbq.gensim.from_keyed_vectors(kv, sigma=0.05, sigma_from_counts="counts")
    with pytest.raises(vbq.ArgumentError, match="sigma"):
        vbq.gensim.from_keyed_vectors(plain, sigma=0)


def test_round_trip_to_keyed_vectors(kv):
    blob = vbq.gensim.from_keyed_vectors(kv, sigma=0.02, sigma_from_counts="counts")
    c = vbq.open(blob)
    back = vbq.gensim.to_keyed_vectors(c)
    assert back.index_to_key == kv.index_to_key
    assert back.vectors.dtype == np.float32
    np.testing.assert_array_equal(back.vectors, c["word"])
    np.testing.assert_array_equal(back["naïve"], c.row("word", "naïve"))
    # Row w has sigma = 0.02 sqrt(count_0 / count_w): frequent words stay close, rare ones may move more.
    counts = np.array([kv.get_vecattr(w, "count") for w in kv.index_to_key], dtype=float)
    row_sigma = 0.02 * np.sqrt(counts[0] / counts)
    assert np.all(np.abs(back.vectors - kv.vectors) <= 6 * row_sigma[:, None])
    a, b = back["word3"], kv["word3"]
    assert a @ b / np.linalg.norm(a) / np.linalg.norm(b) > 0.95
