#!/usr/bin/env python3
"""For each folder: the `auto` and `wide` programs on the same prompt (prefill
over several calls, then 8 greedy steps): same ids, logits within 1e-4."""
import os
import subprocess
import sys

import numpy as np

TOL = 1e-4
for d in sys.argv[1:]:
    out, logits = {}, {}
    for kind in ("auto", "wide"):
        npy = os.path.join(d, kind + ".npy")
        p = subprocess.run([os.path.join(d, kind), "--prompt-ids", "1,5,9,200,31,7,64,2,11",
                            "-n", "8", "--dump-logits", npy], capture_output=True, check=True)
        out[kind], logits[kind] = p.stdout, np.load(npy)
    err = float(np.abs(logits["auto"] - logits["wide"]).max())
    ok = out["auto"] == out["wide"] and err <= TOL
    print("%s max|diff| %.2e (tol %.0e), ids %s %s" % ("PASS" if ok else "FAIL", err, TOL,
          "equal" if out["auto"] == out["wide"] else "differ", d))
