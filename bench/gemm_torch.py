#!/usr/bin/env python3
"""PyTorch's matrix products at given shapes (run by bench/roofline.ts): seconds per product; prints one JSON line.

Usage: python3 bench/gemm_torch.py CONFIG.json, the config {"shapes": [{"batch", "m", "n", "k", "transA", "transB"}, ...]}
as our engine ran them in one training step (C[m, n] = op(A)·op(B), A stored [k, m] when transA, B stored [n, k] when
transB; batch > 1 as torch.bmm). Thread settings as every peer worker (torch_peer.apply_settings). Each product: a
warm-up, then the median of 7 timed runs of enough calls to last ~20 ms.
"""
import json
import sys
import time

import torch_peer


def main():
    cfg = json.load(open(sys.argv[1]))
    out = torch_peer.start_worker()
    if out is None:
        return
    import torch

    seconds = []
    for s in cfg["shapes"]:
        b, m, n, k = s["batch"], s["m"], s["n"], s["k"]
        a = torch.randn(b, k, m).transpose(1, 2) if s["transA"] else torch.randn(b, m, k)
        w = torch.randn(b, n, k).transpose(1, 2) if s["transB"] else torch.randn(b, k, n)
        if b == 1:
            a, w = a[0], w[0]
            f = lambda: torch.mm(a, w)  # noqa: E731
        else:
            f = lambda: torch.bmm(a, w)  # noqa: E731
        for _ in range(3):
            f()
        t0 = time.perf_counter()
        f()
        reps = max(3, int(0.02 / max(time.perf_counter() - t0, 1e-6)))
        runs = []
        for _ in range(7):
            t0 = time.perf_counter()
            for _ in range(reps):
                f()
            runs.append((time.perf_counter() - t0) / reps)
        seconds.append(sorted(runs)[3])
    out["seconds"] = seconds
    print(json.dumps(out))


if __name__ == "__main__":
    main()
