#!/usr/bin/python3
"""Reference GPT in PyTorch: the architecture, initialisation and data order of weightshare's createGptModel.

The model (src/nn/zoo-gpt.ts), in Keras terms:
  ids [T] -> Embedding(V, E) (uniform(-0.05, 0.05)) [-> Dense(E -> dim), no bias, when E is factorised]
  + position (a learned table [T, dim], glorot-uniform, or the fixed sine encoding) -> [Dropout p]
  -> N pre-norm blocks: x + Dropout(MHA(LN(x)), causal) then x + Dropout(Dense(dim)(Dense(ffDim, gelu)(LN(x))))
  -> LN -> [Dense(dim -> E), no bias] -> Dense(V) softmax (its kernel the table transposed when tied),
  sparse categorical cross-entropy at every position.
  LayerNormalization epsilon 1e-5 (GPT-2's); GELU exact (erf); MHA with keyDim = dim / heads, query scaled by
  1/sqrt(keyDim), bias on every projection; Dense kernels glorot-uniform, biases zero, LN gamma 1 and beta 0.
  Sharing across depth (ALBERT): 'all' applies one block N times, 'attention' one attention sub-block at every depth
  with N feed-forward sub-blocks, 'ffn' the converse, 'none' N blocks.

Notes on equivalence with weightshare:
  * torch's Linear weight [out, in] is Keras' kernel [in, out] transposed; an attention projection's Keras kernel
    [dim, heads, keyDim] is the query/key/value weight transposed and reshaped, the output's [heads, keyDim, dim]
    likewise (see keras_weights()).
  * Keras glorot-uniform draws a kernel from U(-l, l), l = sqrt(6 / (fanIn + fanOut)), with Keras' fans: [in, out]
    for a Dense kernel (= torch's xavier_uniform_ on the [out, in] weight); the attention kernels' fans are those of
    their Keras shapes (attention_fans()).
  * Adam with Keras' eps 1e-7; optional global-norm clipping as Keras' global_clipnorm.
  * Data order: `--order weightshare --seed S` draws each epoch's window order exactly as weightshare's fit does
    with seed S (epochOrder in src/core/random.ts, ported below), so both engines see the same batches.

Data: raw little-endian files written by `node scripts/export-dataset.mjs sotu-char`, read by load() of
scripts/reference-lm.py (whose evaluate() and clip_global_norm() this script shares too): x_train.i32 [M, T] etc.
and meta.json {vocab, bptt, level}. The context T is the bptt.

Usage:
  node scripts/export-dataset.mjs sotu-char
  /usr/bin/python3 scripts/reference-gpt.py --data /tmp/ws-data/sotu-char --seconds 180 --threads 2
  /usr/bin/python3 scripts/reference-gpt.py --data ... --steps 2000 --share-layers all --factorized-embedding 32 --tied
Trains for a wall-clock budget (--seconds, training time only) or a number of steps, then prints the validation loss
(nats/char), bits/char (or perplexity for words), training tokens/s and the parameter count, and appends one JSON line
to --log.
"""
import argparse
import importlib.util
import json
import math
import os
import time

if __name__ == '__main__':
    # OpenBLAS starts its own threads beside torch's (see /work/shared FACTS): one each way unless the caller says.
    os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

SHARE_LAYERS = ('none', 'attention', 'ffn', 'all')
LN_EPS = 1e-5


def sine_encoding(steps, dim, max_wavelength=10000.0):
    """keras_hub's SinePositionEncoding [T, dim]: sin(t * w^(-2*floor(i/2)/dim)) at even i, cos at odd i."""
    i = torch.arange(dim, dtype=torch.float64)
    timescales = (1.0 / max_wavelength) ** (2 * torch.div(i, 2, rounding_mode='floor') / dim)
    angles = torch.arange(steps, dtype=torch.float64)[:, None] * timescales[None, :]
    return torch.where(i.long() % 2 == 0, torch.sin(angles), torch.cos(angles))


def glorot_(t, fan_in, fan_out):
    """U(-l, l), l = sqrt(6 / (fanIn + fanOut)), in place (Keras' GlorotUniform with the given fans)."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        return t.uniform_(-limit, limit)


def keras_fans(shape):
    """Keras' compute_fans: the last two axes are (in, out), earlier axes multiply both."""
    receptive = math.prod(shape[:-2]) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


def attention_fans(dim, heads, key_dim):
    """Fans of the glorot draw of the attention kernels: Keras' fans of [dim, heads, keyDim] (query, key, value)
    and of [heads, keyDim, dim] (output), as weightshare's MultiHeadAttention draws them."""
    return keras_fans([dim, heads, key_dim]), keras_fans([heads, key_dim, dim])


class SelfAttention(nn.Module):
    """x + Dropout(MHA(LN(x))), causal; the sub-block `self_attention` (layers norm, attention)."""

    def __init__(self, dim, heads, dropout, context):
        super().__init__()
        self.heads, self.key_dim = heads, dim // heads
        self.norm = nn.LayerNorm(dim, eps=LN_EPS)
        self.query, self.key, self.value = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.attention_output = nn.Linear(dim, dim)
        self.drop = nn.Dropout(dropout)
        self.register_buffer('causal', torch.tril(torch.ones(context, context, dtype=torch.bool)), persistent=False)
        (fi, fo), (gi, go) = attention_fans(dim, heads, self.key_dim)
        for lin in (self.query, self.key, self.value):
            glorot_(lin.weight, fi, fo)
        glorot_(self.attention_output.weight, gi, go)
        for lin in (self.query, self.key, self.value, self.attention_output):
            nn.init.zeros_(lin.bias)

    def forward(self, x):
        b, t, d = x.shape
        h = self.norm(x)
        split = lambda y: y.view(b, t, self.heads, self.key_dim).transpose(1, 2)  # noqa: E731 - [B, H, T, K]
        q = split(self.query(h)) * (1.0 / math.sqrt(self.key_dim))
        k, v = split(self.key(h)), split(self.value(h))
        scores = (q @ k.transpose(-2, -1)).masked_fill(~self.causal[:t, :t], float('-inf'))
        y = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, t, d)
        return x + self.drop(self.attention_output(y))


class FeedForward(nn.Module):
    """x + Dropout(Dense(dim)(gelu(Dense(ffDim)(LN(x))))); the sub-block `feed_forward` (norm, intermediate, output)."""

    def __init__(self, dim, ff_dim, dropout):
        super().__init__()
        self.norm = nn.LayerNorm(dim, eps=LN_EPS)
        self.intermediate, self.output = nn.Linear(dim, ff_dim), nn.Linear(ff_dim, dim)
        self.drop = nn.Dropout(dropout)
        for lin in (self.intermediate, self.output):
            nn.init.xavier_uniform_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(self, x):
        return x + self.drop(self.output(F.gelu(self.intermediate(self.norm(x)))))


class GPT(nn.Module):
    def __init__(self, vocab, context, dim=128, heads=4, layers=4, ff_dim=None, dropout=0.0, share='none',
                 factorized=None, tied=False, position='learned'):
        super().__init__()
        if dim % heads:
            raise SystemExit(f'--heads {heads} must divide --dim {dim}')
        if share not in SHARE_LAYERS:
            raise SystemExit(f'--share-layers must be one of {", ".join(SHARE_LAYERS)}, got {share!r}')
        self.layers, self.share, self.factorized, self.tied, self.position = layers, share, factorized, tied, position
        ff_dim = ff_dim or 4 * dim
        e = factorized or dim
        self.embedding = nn.Embedding(vocab, e)
        nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
        self.embedding_projection = nn.Linear(e, dim, bias=False) if factorized else None
        if factorized:
            nn.init.xavier_uniform_(self.embedding_projection.weight)
        if position == 'learned':
            self.position_embedding = nn.Parameter(glorot_(torch.empty(context, dim), context, dim))
        else:
            self.register_buffer('sine', sine_encoding(context, dim).float(), persistent=False)
        self.drop = nn.Dropout(dropout)
        n_attn = 1 if share in ('attention', 'all') else layers
        n_ffn = 1 if share in ('ffn', 'all') else layers
        self.attention = nn.ModuleList([SelfAttention(dim, heads, dropout, context) for _ in range(n_attn)])
        self.feed_forward = nn.ModuleList([FeedForward(dim, ff_dim, dropout) for _ in range(n_ffn)])
        self.final_norm = nn.LayerNorm(dim, eps=LN_EPS)
        self.output_projection = nn.Linear(dim, e, bias=False) if factorized else None
        if factorized:
            nn.init.xavier_uniform_(self.output_projection.weight)
        self.decoder = nn.Linear(e, vocab)
        nn.init.zeros_(self.decoder.bias)
        if tied:
            self.decoder.weight = self.embedding.weight
        else:
            nn.init.xavier_uniform_(self.decoder.weight)

    def forward(self, ids):
        """Logits [B, T, V]."""
        t = ids.shape[1]
        h = self.embedding(ids)
        if self.embedding_projection is not None:
            h = self.embedding_projection(h)
        h = self.drop(h + (self.position_embedding[:t] if self.position == 'learned' else self.sine[:t]))
        for i in range(self.layers):
            h = self.attention[i % len(self.attention)](h)
            h = self.feed_forward[i % len(self.feed_forward)](h)
        h = self.final_norm(h)
        if self.output_projection is not None:
            h = self.output_projection(h)
        return self.decoder(h)


def block_names(share, layers):
    """weightshare's path of the attention and feed-forward sub-block at each depth (createGptModel's names)."""
    k = lambda stem, i: stem if i == 0 else f'{stem}_{i}'  # noqa: E731 - Keras' default names
    if share in ('none', 'all'):
        blocks = [k('block', i if share == 'none' else 0) for i in range(layers)]
        return [f'{b}/self_attention' for b in blocks], [f'{b}/feed_forward' for b in blocks]
    attn = [k('self_attention', 0 if share == 'attention' else i) for i in range(layers)]
    ffn = [k('feed_forward', 0 if share == 'ffn' else i) for i in range(layers)]
    return attn, ffn


def keras_weights(model, grad=False):
    """The model's weights (or their gradients) by weightshare path, in Keras layouts: {path: float64 tensor}."""
    get = (lambda p: p.grad) if grad else (lambda p: p.detach())  # noqa: E731
    out = {'embedding/embeddings': get(model.embedding.weight)}
    if model.embedding_projection is not None:
        out['embedding_projection/kernel'] = get(model.embedding_projection.weight).t()
    if model.position == 'learned':
        out['position_embedding/embeddings'] = get(model.position_embedding)
    attn_names, ffn_names = block_names(model.share, model.layers)
    for i, a in enumerate(model.attention):
        p = attn_names[i]
        d, h, kd = a.query.in_features, a.heads, a.key_dim
        out[f'{p}/norm/gamma'], out[f'{p}/norm/beta'] = get(a.norm.weight), get(a.norm.bias)
        for name in ('query', 'key', 'value'):
            lin = getattr(a, name)
            out[f'{p}/attention/{name}/kernel'] = get(lin.weight).t().reshape(d, h, kd)
            out[f'{p}/attention/{name}/bias'] = get(lin.bias).reshape(h, kd)
        out[f'{p}/attention/attention_output/kernel'] = get(a.attention_output.weight).t().reshape(h, kd, d)
        out[f'{p}/attention/attention_output/bias'] = get(a.attention_output.bias)
    for i, f in enumerate(model.feed_forward):
        p = ffn_names[i]
        out[f'{p}/norm/gamma'], out[f'{p}/norm/beta'] = get(f.norm.weight), get(f.norm.bias)
        for name in ('intermediate', 'output'):
            lin = getattr(f, name)
            out[f'{p}/{name}/kernel'], out[f'{p}/{name}/bias'] = get(lin.weight).t(), get(lin.bias)
    out['final_norm/gamma'], out['final_norm/beta'] = get(model.final_norm.weight), get(model.final_norm.bias)
    if model.output_projection is not None:
        out['output_projection/kernel'] = get(model.output_projection.weight).t()
    if not model.tied:
        out['decoder/kernel'] = get(model.decoder.weight).t()
    out['decoder/bias'] = get(model.decoder.bias)
    return out


# ---- weightshare's epoch order (src/core/random.ts), so both engines train on the same batches ----------------

def _imul(a, b):
    return (a * b) & 0xFFFFFFFF


def mix_seed(seed, name):
    """mixSeed(seed, name) of src/core/random.ts (ASCII names)."""
    h = (2166136261 ^ (seed & 0xFFFFFFFF)) & 0xFFFFFFFF
    for ch in name:
        h = _imul(h ^ ord(ch), 16777619)
    h = _imul(h ^ (h >> 15), 0x2C1B3C6D)
    return h ^ (h >> 12)


def epoch_order(n, seed, epoch):
    """epochOrder(n, true, seed, epoch): Fisher-Yates over 0..n-1 driven by a 32-bit LCG seeded by mixSeed."""
    idx = list(range(n))
    s = mix_seed(seed, f'epoch:{epoch}')
    for i in range(n - 1, 0, -1):
        s = (_imul(s, 1664525) + 1013904223) & 0xFFFFFFFF
        j = math.floor(((s >> 8) / 16777216) * (i + 1))
        idx[i], idx[j] = idx[j], idx[i]
    return torch.tensor(idx, dtype=torch.int64)


def count_params(model):
    return sum(p.numel() for p in model.parameters())  # shared modules and the tied table counted once


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True)
    ap.add_argument('--seed', type=int, default=0, help='torch seed of the initial weights and dropout; with --order weightshare also the data order')
    ap.add_argument('--order', choices=('weightshare', 'torch'), default='weightshare')
    ap.add_argument('--seconds', type=float, help='training wall-clock budget (evaluation not counted)')
    ap.add_argument('--steps', type=int, help='training steps (batches); default: as many as --seconds allows')
    ap.add_argument('--batch-size', type=int, default=32)
    ap.add_argument('--dim', type=int, default=128)
    ap.add_argument('--heads', type=int, default=4)
    ap.add_argument('--layers', type=int, default=4)
    ap.add_argument('--ff-dim', type=int)
    ap.add_argument('--dropout', type=float, default=0.0)
    ap.add_argument('--share-layers', default='none')
    ap.add_argument('--factorized-embedding', type=int)
    ap.add_argument('--tied', action='store_true')
    ap.add_argument('--position', choices=('learned', 'sine'), default='learned')
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--clipnorm', type=float, default=0.0, help='global gradient-norm clipping (0: none)')
    ap.add_argument('--eval-windows', type=int, help='evaluate on the first N validation windows (default all)')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--log', default='/tmp/ws-data/reference-gpt.jsonl')
    a = ap.parse_args()
    if a.seconds is None and a.steps is None:
        raise SystemExit('give --seconds or --steps')
    if a.factorized_embedding is not None and a.factorized_embedding < 1:
        raise SystemExit(f'--factorized-embedding must be a positive integer, got {a.factorized_embedding}')
    torch.set_num_threads(a.threads)
    spec = importlib.util.spec_from_file_location('reference_lm', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'reference-lm.py'))
    lm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lm)
    meta, data = lm.load(a.data)
    v, t = meta['vocab'], meta['bptt']
    xtr, ytr = data['train']
    xva, yva = data['valid']
    if a.eval_windows:
        xva, yva = xva[:a.eval_windows], yva[:a.eval_windows]
    torch.manual_seed(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    model = GPT(v, t, a.dim, a.heads, a.layers, a.ff_dim, a.dropout, a.share_layers, a.factorized_embedding, a.tied, a.position)
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=a.lr, eps=1e-7)
    n = len(xtr)
    steps_per_epoch = math.ceil(n / a.batch_size)
    print(f'{count_params(model):,} parameters; {n:,} training windows of {t}; vocabulary {v}', flush=True)
    step, trained, run, seen, last_print = 0, 0.0, 0.0, 0, 0.0
    order = None
    while (a.steps is None or step < a.steps) and (a.seconds is None or trained < a.seconds):
        epoch, b = divmod(step, steps_per_epoch)
        if b == 0:
            order = epoch_order(n, a.seed, epoch) if a.order == 'weightshare' else torch.randperm(n, generator=g)
        idx = order[b * a.batch_size:(b + 1) * a.batch_size]
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xtr[idx]).reshape(-1, v), ytr[idx].reshape(-1))
        loss.backward()
        if a.clipnorm > 0:
            lm.clip_global_norm(params, a.clipnorm)
        opt.step()
        value = loss.item()
        trained += time.perf_counter() - t0
        run += value * len(idx)
        seen += len(idx)
        step += 1
        if trained - last_print >= 10:
            last_print = trained
            print(f'step {step}: loss {run / seen:.4f} ({trained:.0f} s, {seen * t / trained:,.0f} tokens/s)', flush=True)
    tokens_per_sec = seen * t / trained
    started = time.perf_counter()
    val = lm.evaluate(model, xva, yva, v)
    eval_seconds = time.perf_counter() - started
    char = meta['level'] == 'char'
    metric = val / math.log(2) if char else math.exp(val)
    unit = 'bits/char' if char else 'perplexity'
    print(f'{step} steps in {trained:.0f} s ({tokens_per_sec:,.0f} tokens/s): train loss {run / seen:.4f}; '
          f'validation loss {val:.4f} nats/{"char" if char else "token"}, {metric:.4f} {unit} ({len(xva)} windows, {eval_seconds:.0f} s)', flush=True)
    os.makedirs(os.path.dirname(a.log), exist_ok=True)
    with open(a.log, 'a') as f:
        f.write(json.dumps({'args': vars(a), 'meta': meta, 'params': count_params(model), 'steps': step, 'seconds': trained,
                            'tokensPerSec': tokens_per_sec, 'trainLoss': run / seen, 'valLoss': val, 'valMetric': metric, 'unit': unit,
                            'torch': torch.__version__, 'threads': torch.get_num_threads()}) + '\n')


if __name__ == '__main__':
    from torch_malloc import keep_freed_memory  # scripts/torch_malloc.py: as the benchmarks run PyTorch

    keep_freed_memory()
    main()
