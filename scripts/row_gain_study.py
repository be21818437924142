#!/usr/bin/python3
"""Which per-row correction undoes VBQ's shrinkage on held-out nll (docs/RESULTS.md,
"Row-group gains").

    /usr/bin/python3 scripts/row_gain_study.py MODEL.h5 DECODED.h5 CORPUS [--modes ...]

MODEL.h5 is a skip-gram model (word/ and context/ mean + log_std), DECODED.h5 the
output of `vbq decompress` on a .vbq of it (e.g. from `vbq rd --keep-files`). For
each mode the script scales every decoded row of both tensors by a gain computed
from the exact means, writes the result beside the model's other datasets and
prints `vbq elbo`'s nll at the means on the first 10^6 tokens of CORPUS:
  none       the decoded means as they are;
  norm       per row, |mu| / |x| (each row gets its norm back);
  ls         per row, <mu, x> / <x, x> (least squares);
  wls        the same weighted by 1 / sigma^2;
  powP       per row, (|mu| / |x|)^P;
  groupG     one norm-restoring gain per group of G rows (what --row-gains stores).
Gains here are exact doubles: an upper bound on what a stored gain can do.
Env: VBQ (the vbq binary, default build/vbq).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np


def gains(mu, x, sd, mode):
    n2, x2 = (mu * mu).sum(1), (x * x).sum(1)
    safe = np.maximum(x2, 1e-300)
    if mode == "none":
        return np.ones(len(mu))
    if mode == "norm":
        return np.sqrt(n2 / safe)
    if mode == "ls":
        return (mu * x).sum(1) / safe
    if mode == "wls":
        w = 1 / sd ** 2
        return (w * mu * x).sum(1) / np.maximum((w * x * x).sum(1), 1e-300)
    if mode.startswith("pow"):
        return np.sqrt(n2 / safe) ** float(mode[3:])
    if mode.startswith("group"):
        g, rows = np.ones(len(mu)), int(mode[5:])
        for b in range(0, len(mu), rows):
            g[b:b + rows] = np.sqrt(n2[b:b + rows].sum() / max(x2[b:b + rows].sum(), 1e-300))
        return g
    sys.exit(f"unknown mode {mode}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("decoded")
    ap.add_argument("corpus")
    ap.add_argument("--modes", default="none,norm,ls,wls,pow0.8,pow1.2,group41,group410,group10000")
    ap.add_argument("--tokens", default="1000000")
    args = ap.parse_args()
    vbq = os.environ.get("VBQ", "build/vbq")
    src, dec = h5py.File(args.model, "r"), h5py.File(args.decoded, "r")
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes.split(","):
            out = os.path.join(tmp, "model.h5")
            shutil.copy(args.model, out)
            with h5py.File(out, "r+") as f:
                for t in ("word", "context"):
                    mu = src[t + "/mean"][:].astype(np.float64)
                    x = dec[t + "/mean"][:].astype(np.float64)
                    sd = np.exp(src[t + "/log_std"][:].astype(np.float64))
                    f[t + "/mean"][...] = (x * gains(mu, x, sd, mode)[:, None]).astype(f[t + "/mean"].dtype)
            r = subprocess.run([vbq, "elbo", "--model", out, "--input", args.corpus, "--lowercase", "--tokens",
                                args.tokens, "--samples", "1", "-T", "2"], capture_output=True, text=True, check=True)
            nll = [line.split()[-1] for line in r.stdout.splitlines() if "at the means" in line][0]
            print(f"{mode:12s} nll at the means {nll}", flush=True)


if __name__ == "__main__":
    main()
