"""Reading one row of a 10^7-coordinate container decodes its block only up to
the row. Prints the time per row (goal: median < 5 ms; python/bench/row_read.py
measures it with CPU time too); asserts only correctness."""
import time

import numpy as np
import pytest

import vbq
from conftest import posterior


@pytest.fixture(scope="module")
def big():
    rng = np.random.default_rng(9)
    mu, sigma = posterior(rng, (100_000, 100), np.float32)  # 10^7 coordinates, an embedding's shape
    vocab = [f"w{i}" for i in range(100_000)]
    blob = vbq.compress({"word": (mu, sigma)}, vocab=vocab)
    return blob, mu


def test_row_read_time(big):
    blob, mu = big
    t0 = time.perf_counter()
    c = vbq.open(blob)
    t_open = time.perf_counter() - t0
    rows = np.random.default_rng(0).integers(0, 100_000, 200)
    c.row("word", 0)  # first call builds nothing lasting, but warms the allocator
    times = []
    for r in rows:
        t = time.perf_counter()
        x = c.row("word", int(r))
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    by_word = c.row("word", "w77777")
    t_word = time.perf_counter() - t
    full = c["word"]
    np.testing.assert_array_equal(x, full[rows[-1]])
    np.testing.assert_array_equal(by_word, full[77777])
    assert np.all(np.abs(full[:10] - mu[:10]) < 1.0)
    ms = np.array(times) * 1e3
    print(f"\n10^7-coordinate container ({len(blob)} bytes, block of {c.block_rows('word')} rows): open {t_open * 1e3:.1f} ms, "
          f"row read median {np.median(ms):.2f} ms, p90 {np.percentile(ms, 90):.2f} ms, max {ms.max():.2f} ms; "
          f"first read by word {t_word * 1e3:.1f} ms")
