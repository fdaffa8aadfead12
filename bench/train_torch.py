#!/usr/bin/env python3
"""Training benchmark peer (run by bench/train.ts): the Keras MNIST CNN in PyTorch; prints one JSON line.

Usage: python3 bench/train_torch.py CONFIG.json  (the config and the raw little-endian data files are
written by `node dist/bench/train.js`; see WorkerConfig there). Shapes: x [N,1,28,28] (NCHW; with one
channel the same bytes as the NHWC files), y [N] int. Thread settings come from the environment (see
bench/torch_peer.py); the plan's three phases (train, infer, latency) each run only when its max > 0.
"""
import json
import resource
import statistics
import sys
import time

import torch_peer


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run_phase(phase, call):
    """call(k) for the phase's warm-up calls, then timed calls until its minimums are met (or its max); returns (calls, seconds, per-call seconds)."""
    for k in range(phase["warmup"]):
        call(k)
    n, times, t0 = 0, [], time.perf_counter()
    while (n < phase["min"] or time.perf_counter() - t0 < phase["minSeconds"]) and n < phase["max"]:
        t = time.perf_counter()
        call(phase["warmup"] + n)
        times.append(time.perf_counter() - t)
        n += 1
    return n, time.perf_counter() - t0, times


def main():
    cfg = json.load(open(sys.argv[1]))
    plan = cfg["plan"]
    out = {"engine": "pytorch", "threads": cfg["threads"]}
    try:
        import numpy as np
        import torch
        from torch import nn
    except Exception as e:  # noqa: BLE001 - any import failure means the peer is skipped
        out["skipped"] = f"cannot import torch: {type(e).__name__}: {e}"
        print(json.dumps(out))
        return

    torch.set_num_threads(cfg["threads"])
    out["settings"] = torch_peer.apply_settings()
    out["threads"] = out["settings"]["torchThreads"]
    torch.manual_seed(cfg["seed"])
    d = cfg["dir"]
    x_train = np.fromfile(f"{d}/train_x.f32", dtype="<f4").reshape(-1, 1, 28, 28)
    y_train = np.fromfile(f"{d}/train_y.i32", dtype="<i4").astype(np.int64)
    x_test = np.fromfile(f"{d}/test_x.f32", dtype="<f4").reshape(-1, 1, 28, 28)
    y_test = np.fromfile(f"{d}/test_y.i32", dtype="<i4")

    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10),
    )
    for m in model:  # Keras initialisers: glorot_uniform kernels, zero biases
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    b, n_batches = cfg["batch"], cfg["trainBatches"]
    losses = []

    def train_step(k):
        i = (k % n_batches) * b
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xt[i:i + b]), yt[i:i + b])
        loss.backward()
        opt.step()
        losses.append(loss.item())

    if plan["train"]["max"] > 0:
        steps, secs, _ = run_phase(plan["train"], train_step)
        out["train"] = {"sps": steps * b / secs, "steps": steps, "seconds": secs, "lossFirst": losses[0], "lossLast": losses[-1]}

    ib, n_test = cfg["inferBatch"], cfg["testBatches"]
    xs = torch.from_numpy(x_test)
    score = {"correct": 0, "seen": 0}

    def infer(k):
        j = k % n_test
        logits = model(xs[j * ib:(j + 1) * ib])
        if k < n_test and score["seen"] < n_test * ib:
            score["correct"] += int((logits.argmax(1).numpy() == y_test[j * ib:(j + 1) * ib]).sum())
            score["seen"] += ib

    def one(k):
        j = k % (n_test * ib)
        model(xs[j:j + 1])

    with torch.inference_mode():
        if plan["infer"]["max"] > 0:
            batches, secs, _ = run_phase(plan["infer"], infer)
            out["infer"] = {"sps": batches * ib / secs, "batches": batches, "seconds": secs,
                            "accuracy": score["correct"] / max(1, score["seen"]), "evaluated": score["seen"]}
        if plan["latency"]["max"] > 0:
            calls, secs, times = run_phase(plan["latency"], one)
            out["latency"] = {"ms": 1000 * statistics.median(times), "calls": calls, "seconds": secs}
    info = torch.__config__.parallel_info().splitlines()
    par = next((l.split(":", 1)[1].strip() for l in info if l.startswith("ATen parallel backend")), "?")
    s = out["settings"]
    blas = f"OpenBLAS {s['blasThreads']} thread(s)" if s["blasThreads"] is not None else "BLAS not OpenBLAS"
    out["note"] = (f"torch {torch.__version__}, numpy {np.__version__}: eager NCHW, {par} {torch.get_num_threads()} thread(s), {blas}, "
                   f"oneDNN {'on' if s['onednn'] else 'off'}")
    out["version"] = torch.__version__
    out["rssMB"] = rss_mb()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
