#!/usr/bin/python3
"""Reference language model in PyTorch, on exactly the windows `weightshare train --model char-lstm|word-lstm` trains on.

The recipe of `weightshare train --model char-lstm` (and word-lstm), in Keras terms:
  Embedding(V, E) (uniform(-0.05, 0.05)) -> [Dropout p] -> LSTM(H, return_sequences) x L, each followed by
  [Dropout p] -> Dense(V) softmax (or, with --tied, Dense whose kernel is the embedding table transposed:
  E must equal H); glorot-uniform kernels, orthogonal recurrent kernels, zero biases with the forget gate's
  set to 1 (Keras' unit_forget_bias); sparse categorical cross-entropy over every position; Adam (eps 1e-7),
  gradients clipped to a global L2 norm (Keras' global_clipnorm: g * c / max(|g|, c)), optional cosine decay
  of the learning rate over all updates; the training windows reshuffled every epoch; no state carried
  between windows.

Notes on equivalence with Keras / weightshare:
  * PyTorch's LSTM has two biases (b_ih, b_hh); b_ih takes Keras' bias, b_hh stays 0: the same function.
  * Gate order: PyTorch (i, f, g, o) = Keras (i, f, c, o), so Keras' kernel [E, 4H] is weight_ih_l0 transposed.
  * orthogonal init: torch.nn.init.orthogonal_ on the [4H, H] weight_hh vs Keras on the [H, 4H] kernel: both
    give a matrix with orthonormal columns/rows of the same distribution up to the transpose.
  * Bits per character = loss / ln 2 (char level); perplexity = exp(loss) (word level).

Data: raw little-endian files written by `node scripts/export-dataset.mjs sotu-char` (or sotu-word; see there):
x_train.i32 [M, T], y_train.i32 [M, T], x_valid.i32, y_valid.i32, x_test.i32, y_test.i32, meta.json {vocab, bptt, ...}.

Usage:
  node scripts/export-dataset.mjs sotu-char
  /usr/bin/python3 scripts/reference-lm.py --data /tmp/ws-data/sotu-char --epochs 2 --seeds 0 1 2 --threads 2
Prints per-epoch train loss and validation loss / bits per character (or perplexity), test at the end, and the
time; appends one JSON line per run to --log.

Trajectory check (scripts/lm-trajectory.mjs): --init-from DIR loads Keras-layout weights written by our side (DIR/manifest.json
{name: shape}, DIR/<name with '/' as '__'>.f32) in place of this script's own init; --no-shuffle takes the windows in order;
--steps K stops after K updates (no evaluation) and --log-steps FILE writes each update's loss as JSON; --save-final DIR
writes the trained weights back in Keras layout (LSTM bias = b_ih + b_hh); --freeze-bhh keeps b_hh at 0 (untrained), so
the LSTM has one trainable bias as in Keras (by default PyTorch trains both b_ih and b_hh).
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn


def load(d):
    meta = json.load(open(os.path.join(d, 'meta.json')))
    t = meta['bptt']

    def arr(name):
        a = np.fromfile(os.path.join(d, name), dtype='<i4').astype(np.int64)
        return torch.from_numpy(a.reshape(-1, t))

    return meta, {s: (arr(f'x_{s}.i32'), arr(f'y_{s}.i32')) for s in ('train', 'valid', 'test')}


class LM(nn.Module):
    def __init__(self, v, e, h, layers, dropout, tied):
        super().__init__()
        if tied and e != h:
            raise SystemExit(f'--tied needs --embed == --hidden (got {e} and {h})')
        self.emb = nn.Embedding(v, e)
        self.rnns = nn.ModuleList([nn.LSTM(e if i == 0 else h, h, batch_first=True) for i in range(layers)])
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(h, v)
        self.tied = tied
        nn.init.uniform_(self.emb.weight, -0.05, 0.05)
        for r in self.rnns:
            nn.init.xavier_uniform_(r.weight_ih_l0)  # fan_in E, fan_out 4H, as Keras' kernel [E, 4H]
            nn.init.orthogonal_(r.weight_hh_l0)
            nn.init.zeros_(r.bias_ih_l0)
            nn.init.zeros_(r.bias_hh_l0)
            with torch.no_grad():
                r.bias_ih_l0[h:2 * h] = 1.0  # unit_forget_bias
        if tied:
            self.out.weight = self.emb.weight
        else:
            nn.init.xavier_uniform_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x):
        y = self.drop(self.emb(x))
        for r in self.rnns:
            y, _ = r(y)
            y = self.drop(y)
        return self.out(y)


def keras_names(model):
    """(Keras weight name, torch tensor, transposed?, torch's second LSTM bias b_hh or None) for every weight of LM, in
    our layer names: Keras' one LSTM bias is torch's b_ih + b_hh."""
    out = [('embedding/embeddings', model.emb.weight, False, None)]
    for i, r in enumerate(model.rnns):
        n = 'lstm' if i == 0 else f'lstm_{i}'
        out += [(f'{n}/kernel', r.weight_ih_l0, True, None), (f'{n}/recurrentKernel', r.weight_hh_l0, True, None),
                (f'{n}/bias', r.bias_ih_l0, False, r.bias_hh_l0)]
    if not model.tied:
        out.append(('decoder/kernel', model.out.weight, True, None))
    out.append(('decoder/bias', model.out.bias, False, None))
    return out


def load_keras_weights(model, d):
    shapes = json.load(open(os.path.join(d, 'manifest.json')))
    with torch.no_grad():
        for name, p, transposed, second in keras_names(model):
            a = torch.from_numpy(np.fromfile(os.path.join(d, name.replace('/', '__') + '.f32'), dtype='<f4').reshape(shapes[name]))
            p.copy_(a.t() if transposed else a)
            if second is not None:
                second.zero_()


def save_keras_weights(model, d):
    os.makedirs(d, exist_ok=True)
    shapes = {}
    with torch.no_grad():
        for name, p, transposed, second in keras_names(model):
            a = p.t() if transposed else p
            if second is not None:
                a = a + second
            a = a.detach().contiguous().numpy().astype('<f4')
            shapes[name] = list(a.shape)
            a.tofile(os.path.join(d, name.replace('/', '__') + '.f32'))
    json.dump(shapes, open(os.path.join(d, 'manifest.json'), 'w'))


def evaluate(model, x, y, v, batch=256):
    model.eval()
    total, n = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = model(x[i:i + batch])
            total += nn.functional.cross_entropy(logits.reshape(-1, v), y[i:i + batch].reshape(-1), reduction='sum').item()
            n += y[i:i + batch].numel()
    model.train()
    return total / n


def clip_global_norm(params, clipnorm):
    """Keras' global_clipnorm: every gradient times c / max(|g|, c), |g| the L2 norm of all of them together."""
    with torch.no_grad():
        norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in params if p.grad is not None))
        scale = clipnorm / max(norm.item(), clipnorm)
        for p in params:
            if p.grad is not None:
                p.grad.mul_(scale)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True)
    ap.add_argument('--seeds', type=int, nargs='+', default=[0])
    ap.add_argument('--epochs', type=int, default=2)
    ap.add_argument('--batch-size', type=int, default=32)
    ap.add_argument('--embed', type=int, default=128)
    ap.add_argument('--hidden', type=int, default=256)
    ap.add_argument('--layers', type=int, default=1)
    ap.add_argument('--dropout', type=float, default=0.0)
    ap.add_argument('--tied', action='store_true')
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--clipnorm', type=float, default=1.0)
    ap.add_argument('--cosine', action='store_true', help='cosine decay of the learning rate to 0 over all updates')
    ap.add_argument('--limit', type=int, help='train on the first N windows only')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--log', default='/tmp/ws-data/reference-lm.jsonl')
    ap.add_argument('--init-from', metavar='DIR', help='start from these Keras-layout weights (see the docstring)')
    ap.add_argument('--no-shuffle', action='store_true', help='take the training windows in order')
    ap.add_argument('--steps', type=int, help='stop after this many updates (no evaluation, no --log line)')
    ap.add_argument('--log-steps', metavar='FILE', help='write every update\'s loss to FILE as JSON')
    ap.add_argument('--save-final', metavar='DIR', help='write the trained weights in Keras layout')
    ap.add_argument('--freeze-bhh', action='store_true', help='keep the LSTM\'s b_hh at 0, untrained (one bias, as Keras)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    meta, data = load(a.data)
    v = meta['vocab']
    per_token = (lambda l: l / math.log(2)) if meta['level'] == 'char' else math.exp
    unit = 'bits/char' if meta['level'] == 'char' else 'perplexity'
    xtr, ytr = data['train']
    if a.limit:
        xtr, ytr = xtr[:a.limit], ytr[:a.limit]
    for seed in a.seeds:
        torch.manual_seed(seed)
        g = torch.Generator().manual_seed(seed)
        model = LM(v, a.embed, a.hidden, a.layers, a.dropout, a.tied)
        if a.init_from:
            load_keras_weights(model, a.init_from)
        if a.freeze_bhh:
            for r in model.rnns:
                r.bias_hh_l0.requires_grad_(False)
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.Adam(params, lr=a.lr, eps=1e-7)
        steps_per_epoch = math.ceil(len(xtr) / a.batch_size)
        total_steps = steps_per_epoch * a.epochs
        started = time.perf_counter()
        step = 0
        history = []
        step_losses = []
        for epoch in range(a.epochs):
            if a.steps is not None and step >= a.steps:
                break
            order = torch.arange(len(xtr)) if a.no_shuffle else torch.randperm(len(xtr), generator=g)
            run, seen = 0.0, 0
            for b in range(steps_per_epoch):
                if a.steps is not None and step >= a.steps:
                    break
                idx = order[b * a.batch_size:(b + 1) * a.batch_size]
                if a.cosine:
                    for pg in opt.param_groups:
                        pg['lr'] = a.lr * 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps))
                opt.zero_grad(set_to_none=True)
                logits = model(xtr[idx])
                loss = nn.functional.cross_entropy(logits.reshape(-1, v), ytr[idx].reshape(-1))
                loss.backward()
                clip_global_norm(params, a.clipnorm)
                opt.step()
                step_losses.append(loss.item())
                run += loss.item() * len(idx)
                seen += len(idx)
                step += 1
            if a.steps is not None:
                continue
            val = evaluate(model, *data['valid'], v)
            history.append({'epoch': epoch + 1, 'loss': run / seen, 'val_loss': val})
            print(f'seed {seed} epoch {epoch + 1}/{a.epochs}: loss {run / seen:.4f} - val_loss {val:.4f} - val {unit} {per_token(val):.4f} '
                  f'({time.perf_counter() - started:.0f} s)', flush=True)
        seconds = time.perf_counter() - started
        if a.log_steps:
            json.dump({'seed': seed, 'losses': step_losses, 'torch': torch.__version__, 'threads': torch.get_num_threads()}, open(a.log_steps, 'w'))
        if a.save_final:
            save_keras_weights(model, a.save_final)
        if a.steps is not None:
            print(f'seed {seed}: {step} updates, last loss {step_losses[-1]:.6f}, {seconds:.0f} s', flush=True)
            continue
        test = evaluate(model, *data['test'], v)
        print(f'seed {seed}: test loss {test:.4f}, test {unit} {per_token(test):.4f}, {seconds:.0f} s', flush=True)
        os.makedirs(os.path.dirname(a.log), exist_ok=True)
        with open(a.log, 'a') as f:
            f.write(json.dumps({'seed': seed, 'args': vars(a), 'meta': meta, 'history': history, 'test_loss': test,
                                'test_metric': per_token(test), 'unit': unit, 'seconds': seconds,
                                'torch': torch.__version__, 'threads': torch.get_num_threads()}) + '\n')


if __name__ == '__main__':
    from torch_malloc import keep_freed_memory  # scripts/torch_malloc.py: as the benchmarks run PyTorch

    keep_freed_memory()
    main()
