#!/usr/bin/env python3
"""The Python side of the language-model benchmarks (bench/lm-bench.ts): one training measurement of a PyTorch model.

`run(make_model, describe)` is a worker's whole body: it reads the config (sys.argv[1], written by the harness:
int32 windows x.i32 and targets y.i32, [M, bptt] each, exactly the samples weightshare trains on; step k takes
windows [k*batch, (k+1)*batch), wrapping), applies the thread settings (torch_peer.apply_settings), builds
`make_model(cfg, torch)`, trains it with cross-entropy over every position and Adam lr 1e-3, eps 1e-7 for the
plan's warm-up and measured steps, and prints one JSON line: tokens/s, loss first and last, CPU ms/step,
parameters, peak RSS, settings in effect, and `describe(torch, settings)` as the note.
"""
import json
import resource
import sys
import time

import torch_peer


def run(make_model, describe):
    cfg = json.load(open(sys.argv[1]))
    out = torch_peer.start_worker()
    if out is None:
        return
    import numpy as np
    import torch
    from torch import nn

    torch.manual_seed(cfg["seed"])
    b, t, v = cfg["batch"], cfg["bptt"], cfg["vocab"]
    x_all = torch.from_numpy(np.fromfile(f"{cfg['dir']}/x.i32", dtype="<i4").astype(np.int64).reshape(-1, t))
    y_all = torch.from_numpy(np.fromfile(f"{cfg['dir']}/y.i32", dtype="<i4").astype(np.int64).reshape(-1, t))
    model = make_model(cfg, torch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    n_batches = len(x_all) // b
    losses = []

    def step(k):
        i = (k % n_batches) * b
        opt.zero_grad(set_to_none=True)
        logits = model(x_all[i:i + b])
        loss = loss_fn(logits.reshape(-1, v), y_all[i:i + b].reshape(-1))
        loss.backward()
        opt.step()
        losses.append(loss.item())

    plan = cfg["plan"]
    for k in range(plan["warmup"]):
        step(k)
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while (n < plan["min"] or time.perf_counter() - t0 < plan["minSeconds"]) and n < plan["max"]:
        step(plan["warmup"] + n)
        n += 1
    secs = time.perf_counter() - t0
    cpu_ms = (time.process_time() - c0) * 1000 / n
    out["train"] = {"tokensPerSec": n * b * t / secs, "steps": n, "seconds": secs, "lossFirst": losses[0], "lossLast": losses[-1], "cpuMsPerStep": cpu_ms}
    out["params"] = sum(p.numel() for p in model.parameters())
    s = out["settings"]
    blas = f"OpenBLAS {s['blasThreads']} thread(s)" if s["blasThreads"] is not None else "BLAS not OpenBLAS"
    out["note"] = f"torch {torch.__version__}: {describe(torch)}, {torch.get_num_threads()} intra-op thread(s), {blas}, oneDNN {'on' if s['onednn'] else 'off'}"
    out["rssMB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
