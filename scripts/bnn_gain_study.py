#!/usr/bin/python3
"""Whether a per-unit gain undoes VBQ's shrinkage on a Bayesian MLP (docs/RESULTS.md,
"Row-group gains").

    /usr/bin/python3 scripts/bnn_gain_study.py BNN.h5 FILE.vbq...

For each .vbq of BNN.h5 (e.g. from `vbq rd --keep-files`) the script decodes the
weights, scales each weight matrix [in, out] by exact double gains computed from
the means, and prints `vbq eval-bnn`'s test accuracy:
  none     the decoded weights;
  colnorm  per output unit (column), |mu| / |x|;
  colls    per output unit, <mu, x> / <x, x> (least squares);
  rownorm  per input unit (row), |mu| / |x|.
Biases stay as decoded. Env: VBQ (the vbq binary, default build/vbq).
"""
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    vbq, model = os.environ.get("VBQ", "build/vbq"), sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp, h5py.File(model, "r") as src:
        decoded, scaled = os.path.join(tmp, "decoded.h5"), os.path.join(tmp, "scaled.h5")
        for file in sys.argv[2:]:
            subprocess.run([vbq, "decompress", file, "-o", decoded, "-f"], check=True, capture_output=True)
            with h5py.File(decoded, "r") as dec:
                for mode in ("none", "colnorm", "colls", "rownorm"):
                    shutil.copy(model, scaled)
                    with h5py.File(scaled, "r+") as out:
                        for name in dec:  # layerK groups
                            for part in dec[name]:
                                key = f"{name}/{part}/mean"
                                mu, x = src[key][:].astype(np.float64), dec[key][:].astype(np.float64)
                                if part == "weight" and mode != "none":
                                    axis = 0 if mode.startswith("col") else 1
                                    den = np.maximum((x * x).sum(axis), 1e-300)
                                    g = np.sqrt((mu * mu).sum(axis) / den) if mode.endswith("norm") else (mu * x).sum(axis) / den
                                    x = x * (g[None, :] if axis == 0 else g[:, None])
                                out[key][...] = x.astype(out[key].dtype)
                    r = subprocess.run([vbq, "eval-bnn", scaled, "--threads", "2"], capture_output=True, text=True,
                                       check=True)
                    acc = [line for line in r.stdout.splitlines() if "test accuracy" in line][0]
                    print(f"{os.path.basename(file)}  {mode:8s} {acc}", flush=True)


if __name__ == "__main__":
    main()
