#!/usr/bin/python3
"""Reference accuracy of the seed CNN in PyTorch, on exactly the data weightshare trains on.

The recipe of `weightshare train` (defaults; the Keras MNIST CNN):
  conv 32 3x3 relu -> max-pool 2 -> conv 64 3x3 relu -> max-pool 2 -> flatten -> dense 128 relu
  -> dense 10 softmax; 'valid' padding; glorot-uniform kernels, zero biases;
  Adam lr 1e-3, beta 0.9/0.999, eps 1e-7; sparse categorical cross-entropy; batch 32;
  10 epochs; training set reshuffled every epoch; no augmentation, no regularisation.

Notes on equivalence with Keras:
  * torch.nn.init.xavier_uniform_ = Keras GlorotUniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)).
    Conv kernel: torch weight (out, in, kh, kw) -> fan_in = in*kh*kw, fan_out = out*kh*kw; Keras kernel
    (kh, kw, in, out) -> fan_in = kh*kw*in, fan_out = kh*kw*out: the same numbers. Dense: torch
    (out, in), Keras (in, out): fan_in = in, fan_out = out in both.
  * NCHW here vs NHWC in Keras: with C = 1 the input bytes are identical. The flatten order differs
    (c,h,w vs h,w,c), which only permutes the rows of the first dense kernel; its init is i.i.d., so
    the distribution of runs is the same.
  * CrossEntropyLoss on logits = softmax + sparse categorical cross-entropy (mean over the batch).
  * torch.optim.Adam adds eps to sqrt(v_hat) (bias-corrected); Keras adds it to sqrt(v) with the bias
    correction folded into the step size. With eps = 1e-7 the difference is negligible.
  * The last batch of an epoch may be short (not the case for 8,000 or 60,000 with batch 32).

Data: raw little-endian files written by `node scripts/export-dataset.mjs <name>` (default folder
/tmp/ws-data/<name>): x_train.f32 (N*784, values in [0,1]), y_train.i32, x_test.f32, y_test.i32.

Usage:
  node scripts/export-dataset.mjs mnist-sample
  /usr/bin/python3 scripts/reference-accuracy.py --dataset mnist-sample --seeds 0 1 2 3 4
  /usr/bin/python3 scripts/reference-accuracy.py --dataset fashion-mnist --seeds 0 --threads 1

Prints per-epoch train loss/accuracy (running means over the epoch, as Keras reports them) and the
test accuracy after each epoch; appends one JSON line per run to --log.
"""
import argparse
import json
import math
import os
import platform
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load(data_dir):
    meta = json.load(open(os.path.join(data_dir, 'meta.json')))
    h, w, c = meta['shape']
    pix = h * w * c

    def arr(name, dtype, n, per):
        a = np.fromfile(os.path.join(data_dir, name), dtype=dtype)
        if a.size != n * per:
            sys.exit(f'{data_dir}/{name}: {a.size} values, expected {n * per}')
        return a

    x_train = arr('x_train.f32', '<f4', meta['nTrain'], pix)
    y_train = arr('y_train.i32', '<i4', meta['nTrain'], 1)
    x_test = arr('x_test.f32', '<f4', meta['nTest'], pix)
    y_test = arr('y_test.i32', '<i4', meta['nTest'], 1)
    # NHWC -> NCHW (a no-op reshape when C = 1, kept general).
    to_nchw = lambda x, n: torch.from_numpy(x.reshape(n, h, w, c).transpose(0, 3, 1, 2).copy())
    return (meta,
            to_nchw(x_train, meta['nTrain']), torch.from_numpy(y_train.astype(np.int64)),
            to_nchw(x_test, meta['nTest']), torch.from_numpy(y_test.astype(np.int64)))


class SeedCnn(nn.Module):
    def __init__(self, in_ch=1, hw=28, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, 32, 3)   # 'valid'
        self.conv2 = nn.Conv2d(32, 64, 3)
        s = ((hw - 2) // 2 - 2) // 2            # 28 -> 26 -> 13 -> 11 -> 5
        self.fc1 = nn.Linear(64 * s * s, 128)
        self.fc2 = nn.Linear(128, classes)
        for m in (self.conv1, self.conv2, self.fc1, self.fc2):
            nn.init.xavier_uniform_(m.weight)   # Keras glorot_uniform (see the module docstring)
            nn.init.zeros_(m.bias)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)                      # logits; softmax is inside the loss


@torch.no_grad()
def evaluate(model, x, y, bs=1000):
    model.eval()
    correct, loss = 0, 0.0
    for i in range(0, x.shape[0], bs):
        out = model(x[i:i + bs])
        loss += F.cross_entropy(out, y[i:i + bs], reduction='sum').item()
        correct += (out.argmax(1) == y[i:i + bs]).sum().item()
    model.train()
    return correct / x.shape[0], loss / x.shape[0]


def run(args, seed, data):
    meta, x_train, y_train, x_test, y_test = data
    torch.manual_seed(seed)                     # initial weights
    shuffle_gen = torch.Generator().manual_seed(seed)
    model = SeedCnn(in_ch=x_train.shape[1], hw=x_train.shape[2], classes=meta['classes'])
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-7)
    n = x_train.shape[0]
    history = []
    t0 = time.time()
    model.train()
    for epoch in range(1, args.epochs + 1):
        te = time.time()
        perm = torch.randperm(n, generator=shuffle_gen)
        loss_sum, correct, seen = 0.0, 0, 0
        for i in range(0, n, args.batch_size):
            idx = perm[i:i + args.batch_size]
            xb, yb = x_train[idx], y_train[idx]
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * yb.shape[0]
            correct += (out.argmax(1) == yb).sum().item()
            seen += yb.shape[0]
        rec = {'epoch': epoch, 'loss': loss_sum / seen, 'acc': correct / seen}
        if args.eval_every_epoch or epoch == args.epochs:
            rec['testAcc'], rec['testLoss'] = evaluate(model, x_test, y_test)
        rec['seconds'] = round(time.time() - te, 1)
        history.append(rec)
        extra = f"  test acc {rec['testAcc'] * 100:.2f} %  test loss {rec['testLoss']:.4f}" if 'testAcc' in rec else ''
        print(f"[{meta['name']} seed {seed}] epoch {epoch}/{args.epochs}  loss {rec['loss']:.4f}  "
              f"acc {rec['acc'] * 100:.2f} %{extra}  ({rec['seconds']} s)", flush=True)
    test_acc, test_loss = history[-1]['testAcc'], history[-1]['testLoss']
    print(f"[{meta['name']} seed {seed}] final test accuracy {test_acc * 100:.2f} % "
          f"({round(test_acc * x_test.shape[0])}/{x_test.shape[0]}), {time.time() - t0:.0f} s", flush=True)
    result = {
        'framework': f'pytorch {torch.__version__}', 'dataset': meta['name'], 'seed': seed,
        'nTrain': n, 'nTest': int(x_test.shape[0]), 'epochs': args.epochs, 'batchSize': args.batch_size,
        'lr': args.lr, 'threads': torch.get_num_threads(), 'testAcc': test_acc, 'testLoss': test_loss,
        'seconds': round(time.time() - t0, 1), 'host': platform.node(), 'history': history,
    }
    with open(args.log, 'a') as f:
        f.write(json.dumps(result) + '\n')
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--dataset', default='mnist-sample', help='name of the exported dataset (default mnist-sample)')
    p.add_argument('--data', help='folder of the exported files (default /tmp/ws-data/<dataset>)')
    p.add_argument('--seeds', type=int, nargs='+', default=[0])
    p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--threads', type=int, default=2, help='torch intra-op threads (default 2)')
    p.add_argument('--no-eval-every-epoch', dest='eval_every_epoch', action='store_false',
                   help='evaluate on the test set only after the last epoch')
    p.add_argument('--log', default='/tmp/reference-accuracy.jsonl', help='JSON lines appended here, one per run')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    data = load(args.data or os.path.join('/tmp/ws-data', args.dataset))
    accs = [run(args, s, data)['testAcc'] for s in args.seeds]
    if len(accs) > 1:
        a = np.array(accs) * 100
        print(f"[{data[0]['name']}] seeds {args.seeds}: test accuracy mean {a.mean():.2f} % "
              f"sd {a.std(ddof=1):.2f} (min {a.min():.2f}, max {a.max():.2f})", flush=True)


if __name__ == '__main__':
    from torch_malloc import keep_freed_memory  # scripts/torch_malloc.py: as the benchmarks run PyTorch

    keep_freed_memory()
    main()
