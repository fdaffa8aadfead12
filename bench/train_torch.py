#!/usr/bin/env python3
"""Training benchmark peer (run by bench/train.ts): the Keras MNIST CNN in PyTorch; prints one JSON line.

Usage: python3 bench/train_torch.py CONFIG.json  (the config and the raw little-endian data files are
written by `node dist/bench/train.js`; see WorkerConfig there). Shapes: x [N,1,28,28] (NCHW; with one
channel the same bytes as the NHWC files), y [N] int.
"""
import json
import resource
import sys
import time


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main():
    cfg = json.load(open(sys.argv[1]))
    threads = cfg["threads"]
    plan = cfg["plans"]["pytorch"]
    out = {"engine": "pytorch", "threads": threads}
    try:
        import numpy as np
        import torch
        from torch import nn
    except Exception as e:  # noqa: BLE001 - any import failure means the peer is skipped
        out["skipped"] = f"cannot import torch: {type(e).__name__}: {e}"
        print(json.dumps(out))
        return

    torch.set_num_threads(threads)
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

    def train_step(k):
        i = (k % n_batches) * b
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xt[i:i + b]), yt[i:i + b])
        loss.backward()
        opt.step()
        return loss.item()

    first = None
    for k in range(plan["warmupSteps"]):
        loss = train_step(k)
        first = loss if first is None else first
    k, t0 = plan["warmupSteps"], time.perf_counter()
    steps = 0
    while (steps < plan["minSteps"] or time.perf_counter() - t0 < plan["minSeconds"]) and steps < plan["maxSteps"]:
        last = train_step(k)
        first = last if first is None else first
        k += 1
        steps += 1
    secs = time.perf_counter() - t0
    out["train"] = {"sps": steps * b / secs, "steps": steps, "seconds": secs, "lossFirst": first, "lossLast": last}

    ib, n_test = cfg["inferBatch"], cfg["testBatches"]
    xs = torch.from_numpy(x_test)
    correct, seen = 0, 0
    with torch.inference_mode():
        model(xs[0:ib])
        t0, batches = time.perf_counter(), 0
        while (batches < plan["minInferBatches"] or time.perf_counter() - t0 < plan["minInferSeconds"]) and batches < plan["maxInferBatches"]:
            j = batches % n_test
            logits = model(xs[j * ib:(j + 1) * ib])
            if batches < n_test:
                correct += int((logits.argmax(1).numpy() == y_test[j * ib:(j + 1) * ib]).sum())
                seen += ib
            batches += 1
        secs = time.perf_counter() - t0
    out["infer"] = {"sps": batches * ib / secs, "batches": batches, "seconds": secs, "accuracy": correct / seen, "evaluated": seen}
    info = torch.__config__.parallel_info().splitlines()
    par = next((l.split(":", 1)[1].strip() for l in info if l.startswith("ATen parallel backend")), "?")
    dnn = "oneDNN on" if torch.backends.mkldnn.is_available() else "no oneDNN"
    out["note"] = f"torch {torch.__version__}, numpy {np.__version__}: eager NCHW, {par} {torch.get_num_threads()} thread(s), {dnn}"
    out["version"] = torch.__version__
    out["rssMB"] = rss_mb()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
