#!/usr/bin/python3
"""Where VBQ's held-out nll increase on a skip-gram model comes from (docs/RESULTS.md,
"Held-out nll: what the increase is made of").

    /usr/bin/python3 scripts/heldout_loss_study.py where MODEL.h5 DECODED.h5 CORPUS
    /usr/bin/python3 scripts/heldout_loss_study.py scale-std MODEL.h5 OUT.h5 --from-row R --factor F
    /usr/bin/python3 scripts/heldout_loss_study.py columns MODEL.h5

`where`: DECODED.h5 is `vbq decompress` of a .vbq of MODEL.h5 (both tensors). For the
decoded means, then with the exact means put back into one tensor or one band of rows
(ranks by frequency) of both, it prints `vbq elbo`'s nll at the means on the first 10^6
tokens of CORPUS.
`scale-std`: writes a copy of MODEL.h5 whose stds from row R on are multiplied by F, so that
`vbq rd` on it spends more (F < 1) or fewer bits on those rows: lambda x F^2 there.
`columns`: how much of the rows is their common vector (the mean of all rows), per band of
rows: the norm of the band's mean row, the median norm of its rows and the cosine between the
band's mean row and the common vector (what `vbq compress --center-columns` subtracts).
Env: VBQ (the vbq binary, default build/vbq).
"""
import argparse
import os
import shutil
import subprocess
import tempfile

import h5py
import numpy as np

BANDS = [(0, 1000), (1000, 10000), (10000, 50000), (50000, 100000)]


def nll_at_means(vbq, model, corpus, tokens):
    r = subprocess.run([vbq, "elbo", model, corpus, "--lowercase", "--tokens", tokens, "--samples", "1", "-T", "2"],
                       capture_output=True, text=True, check=True)
    return [line.split()[-1] for line in r.stdout.splitlines() if "at the means" in line][0]


def where(args, vbq):
    src, dec = h5py.File(args.model, "r"), h5py.File(args.decoded, "r")
    cases = [("decoded", (), None), ("word exact", ("word",), None), ("context exact", ("context",), None)]
    cases += [(f"rows {lo}-{hi} exact", ("word", "context"), (lo, hi)) for lo, hi in BANDS]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "model.h5")
        for name, exact, rows in cases:
            shutil.copy(args.model, out)
            with h5py.File(out, "r+") as f:
                for t in ("word", "context"):
                    x = dec[t + "/mean"][:].astype(np.float64)
                    if t in exact:
                        lo, hi = rows or (0, len(x))
                        x[lo:hi] = src[t + "/mean"][lo:hi]
                    f[t + "/mean"][...] = x.astype(f[t + "/mean"].dtype)
            print(f"{name:24s} nll at the means {nll_at_means(vbq, out, args.corpus, args.tokens)}", flush=True)


def scale_std(args):
    shutil.copy(args.model, args.out)
    with h5py.File(args.out, "r+") as f:
        for t in ("word", "context"):
            log_std = f[t + "/log_std"][:]
            log_std[args.from_row:] += np.log(args.factor)
            f[t + "/log_std"][...] = log_std
    print(f"wrote {args.out}: stds of rows >= {args.from_row} x {args.factor}")


def columns(args):
    with h5py.File(args.model, "r") as f:
        for t in ("word", "context"):
            mu = f[t + "/mean"][:].astype(np.float64)
            common = mu.mean(0)
            print(f"{t}: common vector norm {np.linalg.norm(common):.3f}, "
                  f"median row norm {np.median(np.linalg.norm(mu, axis=1)):.3f}")
            for lo, hi in BANDS:
                band = mu[lo:hi].mean(0)
                cos = band @ common / (np.linalg.norm(band) * np.linalg.norm(common))
                print(f"  rows {lo}-{hi}: mean row norm {np.linalg.norm(band):.3f}, "
                      f"median row norm {np.median(np.linalg.norm(mu[lo:hi], axis=1)):.3f}, cosine {cos:.4f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    w = sub.add_parser("where")
    w.add_argument("model")
    w.add_argument("decoded")
    w.add_argument("corpus")
    w.add_argument("--tokens", default="1000000")
    s = sub.add_parser("scale-std")
    s.add_argument("model")
    s.add_argument("out")
    s.add_argument("--from-row", type=int, required=True)
    s.add_argument("--factor", type=float, required=True)
    c = sub.add_parser("columns")
    c.add_argument("model")
    args = ap.parse_args()
    if args.command == "where":
        where(args, os.environ.get("VBQ", "build/vbq"))
    elif args.command == "scale-std":
        scale_std(args)
    else:
        columns(args)


if __name__ == "__main__":
    main()
