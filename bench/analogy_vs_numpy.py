#!/usr/bin/env python3
"""The word-analogy protocol (docs/PROTOCOL.md) in plain numpy, as a speed and
equality reference for vbq's evaluate_analogies.

Reads a word2vec binary model and questions-words.txt, computes every covered
question's rank = #{w : s(w) >= s(d)} - 1 (or, with --exclude, over words not in
{a, b, c, d}) with a blocked matmul and a >= count, times it (median of --reps),
and compares with the ranks vbq wrote (--ranks). Prints one JSON line.

Arithmetic is the one eval/analogy.hpp fixes: ||v|| summed in float64 in column
order and rounded to float32, n = v / (||v|| + 1e-8) in float32,
p = (n(b) - n(a)) + n(c) in float32, S = P[i:i+B] @ N.T in blocks of B questions.
--dtype float32 (the plain, fast way) takes S in float32: near-ties then fall
where float32 rounding puts them, and differ with OpenBLAS's thread count.
--dtype float64 casts P and N to float64 first: each product is then exact and
S is s(w) to ~1e-16, the exact scores vbq ranks by, so ranks must agree.
"""
import argparse
import json
import os
import time

import numpy as np


def read_word2vec_binary(path):
    with open(path, "rb") as f:
        data = f.read()
    nl = data.index(b"\n")
    V, d = (int(x) for x in data[:nl].split())
    pos = nl + 1
    words = []
    vectors = np.empty((V, d), dtype=np.float32)
    rec = 4 * d
    for i in range(V):
        while data[pos:pos + 1] in (b" ", b"\n", b"\r", b"\t"):
            pos += 1
        sp = data.index(b" ", pos)
        words.append(data[pos:sp].decode("utf-8"))
        vectors[i] = np.frombuffer(data, dtype="<f4", count=d, offset=sp + 1)
        pos = sp + 1 + rec
    return words, vectors


def read_questions(path, lowercase):
    qs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(":"):
                continue
            w = line.split()
            if len(w) != 4:
                raise SystemExit(f"{path}: bad question line {line!r}")
            qs.append([x.lower() for x in w] if lowercase else w)
    return qs


def ranks_numpy(vectors, idx, exclude, block, dtype):
    """idx: (Q, 4) int64 rows of a, b, c, d. Returns int64 ranks."""
    V, d = vectors.shape
    sum_sq = np.zeros(V, dtype=np.float64)
    for k in range(d):  # same order as the C++ loop
        col = vectors[:, k].astype(np.float64)
        sum_sq += col * col
    norm = np.sqrt(sum_sq).astype(np.float32)
    unit = vectors / (norm + np.float32(1e-8))[:, None]
    a, b, c, dd = idx[:, 0], idx[:, 1], idx[:, 2], idx[:, 3]
    P = ((unit[b] - unit[a]) + unit[c]).astype(dtype)
    unit = unit.astype(dtype)
    Q = len(idx)
    ranks = np.empty(Q, dtype=np.int64)
    for q0 in range(0, Q, block):
        S = P[q0:q0 + block] @ unit.T
        r = np.arange(S.shape[0])
        sd = S[r, dd[q0:q0 + block]]
        cnt = np.count_nonzero(S >= sd[:, None], axis=1) - 1
        if exclude:
            ia, ib, ic, idd = a[q0:q0 + block], b[q0:q0 + block], c[q0:q0 + block], dd[q0:q0 + block]
            # each of a, b, c once, and not d itself (already taken out)
            cnt -= ((S[r, ia] >= sd) & (ia != idd)).astype(np.int64)
            cnt -= ((S[r, ib] >= sd) & (ib != idd) & (ib != ia)).astype(np.int64)
            cnt -= ((S[r, ic] >= sd) & (ic != idd) & (ic != ia) & (ic != ib)).astype(np.int64)
        ranks[q0:q0 + block] = cnt
    return ranks


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vectors", required=True, help="word2vec binary model")
    ap.add_argument("--questions", required=True)
    ap.add_argument("--ranks", help="vbq's ranks, one per covered question")
    ap.add_argument("--exclude", action="store_true", help="word2vec convention: a, b, c are no candidates")
    ap.add_argument("--lowercase", action="store_true")
    ap.add_argument("--block", type=int, default=512, help="questions per matmul")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="matmul precision")
    args = ap.parse_args()

    words, vectors = read_word2vec_binary(args.vectors)
    questions = read_questions(args.questions, args.lowercase)

    times, cpu_times = [], []
    for _ in range(max(1, args.reps)):
        t0, c0 = time.perf_counter(), time.process_time()
        row = {}
        for i, w in enumerate(words):
            row.setdefault(w, i)  # first (most frequent) row wins
        idx = [[row[w] for w in q] for q in questions if all(w in row for w in q)]
        idx = np.array(idx, dtype=np.int64).reshape(-1, 4)
        ranks = ranks_numpy(vectors, idx, args.exclude, args.block, np.dtype(args.dtype))
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)

    out = {
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
        "dtype": args.dtype,
        "covered": int(len(idx)),
        "total": len(questions),
        "hits1": float(np.mean(ranks < 1)) if len(ranks) else 0.0,
        "hits10": float(np.mean(ranks < 10)) if len(ranks) else 0.0,
        "mrr": float(np.mean(1.0 / (1.0 + ranks))) if len(ranks) else 0.0,
        "seconds_median": float(np.median(times)),
        "cpu_seconds_median": float(np.median(cpu_times)),
        "seconds": [round(t, 4) for t in times],
    }
    if args.ranks:
        ours = np.loadtxt(args.ranks, dtype=np.int64, ndmin=1)
        if ours.shape != ranks.shape:
            out["agree"] = 0
            out["error"] = f"rank count differs: vbq {ours.size}, numpy {ranks.size}"
        else:
            diff = ours != ranks
            out["agree"] = int(np.count_nonzero(~diff))
            out["max_abs_rank_diff"] = int(np.max(np.abs(ours - ranks))) if ranks.size else 0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
