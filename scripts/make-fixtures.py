"""Writes the PyTorch reference fixtures in test/fixtures/ (matmul, conv2d, pool2d, softmax/cross-entropy).

Run from the repository root with Debian's PyTorch (1.13):

    /usr/bin/python3 scripts/make-fixtures.py

Everything is computed in float64 from float32-representable inputs (fixed torch seed), then rounded
to 8 significant digits. Activations are stored NHWC and conv kernels HWIO: the script transposes
from torch's NCHW / OIHW and back. TF-style 'same' padding is explicit and asymmetric (the extra
row/column goes to the bottom/right), applied with F.pad before the op.

Large cases (the reference CNN's conv geometries) would make the files too big, so their inputs are
given by a `generator` (see HASH_DOC, reproducible in JS with Math.imul) whose values are multiples
of 1/16; every float32 sum of their products is then exact. Their outputs are stored as checks:
sum, sum of |v|, sum of squares, a weighted sum with generator weights, and sampled entries.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')
DIGITS = 8
torch.manual_seed(1234)

HASH_DOC = ('hash16(seed)[i]: u = (i + seed*2^20) mod 2^32; h = (u*2654435761) mod 2^32; h ^= h>>>15; '
            'h = (h*2246822519) mod 2^32; h ^= h>>>13; value = ((h mod 33) - 16)/16')


def hash16(seed, n):
    """The `hash16` generator: n values in {-1, -15/16, ..., 1}, exact in float32."""
    out = []
    for i in range(n):
        h = ((i + seed * (1 << 20)) & 0xFFFFFFFF) * 2654435761 & 0xFFFFFFFF
        h ^= h >> 15
        h = h * 2246822519 & 0xFFFFFFFF
        h ^= h >> 13
        out.append(((h % 33) - 16) / 16)
    return out


def r8(v):
    """Rounds to DIGITS significant digits (the shortest repr of that decimal is what json writes)."""
    return float('%.*g' % (DIGITS, v))


def rand(*shape, scale=1.0):
    """float32-representable normal values, rounded to DIGITS, returned as a float64 tensor."""
    t = (torch.randn(*shape, dtype=torch.float32) * scale).double()
    return t.apply_(r8)


def enc(t):
    """Tensor -> {shape, data} with rounded values (ints stay ints)."""
    if t.dtype in (torch.int32, torch.int64):
        return {'shape': list(t.shape), 'data': [int(v) for v in t.flatten().tolist()]}
    return {'shape': list(t.shape), 'data': [r8(v) for v in t.detach().flatten().tolist()]}


def gen(shape, seed):
    """A generated input: the fixture stores the recipe, the script uses the values."""
    n = math.prod(shape)
    return {'shape': list(shape), 'generator': {'kind': 'hash16', 'seed': seed}}, \
        torch.tensor(hash16(seed, n), dtype=torch.float64).reshape(shape)


def checks(t, weight_seed, n_samples=200):
    """Summary of a large output: sums, a hash16-weighted sum and evenly spread sampled entries."""
    flat = t.detach().flatten()
    n = flat.numel()
    wts = torch.tensor(hash16(weight_seed, n), dtype=torch.float64)
    step = max(1, n // n_samples)
    idx = list(range(0, n, step))[:n_samples] + [n - 1]
    return {'shape': list(t.shape), 'checks': {
        'sum': r8(flat.sum().item()), 'sumAbs': r8(flat.abs().sum().item()),
        'sumSquares': r8((flat * flat).sum().item()),
        'weightSeed': weight_seed, 'weightedSum': r8((flat * wts).sum().item()),
        'samples': {'index': idx, 'value': [r8(flat[i].item()) for i in idx]}}}


def same_pad(size, k, s, d=1):
    """TF 'same' padding along one axis: (before, after, out)."""
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2, out


def geometry(h, w, kh, kw, sh, sw, dh, dw, padding):
    """Output size and explicit padding {padTop, padBottom, padLeft, padRight, oh, ow}."""
    if padding == 'same':
        pt, pb, oh = same_pad(h, kh, sh, dh)
        pl, pr, ow = same_pad(w, kw, sw, dw)
    else:
        pt = pb = pl = pr = 0
        oh = (h - (kh - 1) * dh - 1) // sh + 1
        ow = (w - (kw - 1) * dw - 1) // sw + 1
    return {'padTop': pt, 'padBottom': pb, 'padLeft': pl, 'padRight': pr, 'oh': oh, 'ow': ow}


def nchw(t):
    return t.permute(0, 3, 1, 2)


def nhwc(t):
    return t.permute(0, 2, 3, 1)


# ---- matmul -------------------------------------------------------------------------------------

def matmul_case(batch, m, k, n, ta, tb):
    pre = [batch] if batch > 1 else []
    a = rand(*pre, *((k, m) if ta else (m, k))).requires_grad_()
    b = rand(*pre, *((n, k) if tb else (k, n))).requires_grad_()
    opa = a.transpose(-1, -2) if ta else a
    opb = b.transpose(-1, -2) if tb else b
    c = opa @ opb
    g = rand(*c.shape)
    c.backward(g)
    return {'name': f'b{batch}_m{m}_k{k}_n{n}_{"T" if ta else "N"}{"T" if tb else "N"}',
            'params': {'batch': batch, 'm': m, 'n': n, 'k': k, 'transA': ta, 'transB': tb},
            'inputs': {'A': enc(a), 'B': enc(b), 'G': enc(g)},
            'outputs': {'C': enc(c), 'dA': enc(a.grad), 'dB': enc(b.grad)}}


def matmul_fixture():
    cases = []
    for (m, k, n) in [(1, 1, 1), (3, 5, 7), (13, 21, 9), (8, 16, 4)]:
        for ta in (False, True):
            for tb in (False, True):
                cases.append(matmul_case(1, m, k, n, ta, tb))
    cases.append(matmul_case(3, 5, 6, 7, False, False))
    cases.append(matmul_case(2, 9, 4, 13, True, True))
    return {'op': 'matmul',
            'layout': 'row-major; A stored [M,K] ([K,M] when transA), B stored [K,N] ([N,K] when transB), '
                      'batched tensors have a leading [batch] axis; C = op(A)·op(B); G = dL/dC; '
                      'dA, dB are in the stored layouts of A and B',
            'cases': cases}


# ---- conv2d -------------------------------------------------------------------------------------

def conv_run(x, w, p):
    """y, dx, dw for NHWC x, HWIO w (leaves requiring grad) and dy drawn inside."""
    xp = F.pad(nchw(x), (p['padLeft'], p['padRight'], p['padTop'], p['padBottom']))
    y = nhwc(F.conv2d(xp, w.permute(3, 2, 0, 1), stride=(p['strideH'], p['strideW']),
                      dilation=(p['dilationH'], p['dilationW'])))
    assert list(y.shape) == [p['n'], p['oh'], p['ow'], p['f']], (y.shape, p)
    return y


def conv_params(n, h, w, c, f, kh, kw, s, d, padding):
    p = {'n': n, 'h': h, 'w': w, 'c': c, 'f': f, 'kh': kh, 'kw': kw, 'strideH': s[0], 'strideW': s[1],
         'dilationH': d[0], 'dilationW': d[1], 'padding': padding}
    p.update(geometry(h, w, kh, kw, s[0], s[1], d[0], d[1], padding))
    return p


def conv_case(name, n, h, w, c, f, kh, kw, s=(1, 1), d=(1, 1), padding='valid'):
    p = conv_params(n, h, w, c, f, kh, kw, s, d, padding)
    x = rand(n, h, w, c).requires_grad_()
    k = rand(kh, kw, c, f, scale=1 / math.sqrt(kh * kw * c)).requires_grad_()
    y = conv_run(x, k, p)
    dy = rand(*y.shape)
    y.backward(dy)
    return {'name': name, 'params': p, 'inputs': {'x': enc(x), 'w': enc(k), 'dy': enc(dy)},
            'outputs': {'y': enc(y), 'dx': enc(x.grad), 'dw': enc(k.grad)}}


def conv_case_generated(name, seed, n, h, w, c, f, kh, kw):
    p = conv_params(n, h, w, c, f, kh, kw, (1, 1), (1, 1), 'valid')
    xj, x = gen((n, h, w, c), seed)
    wj, k = gen((kh, kw, c, f), seed + 1)
    dyj, dy = gen((n, p['oh'], p['ow'], f), seed + 2)
    x.requires_grad_()
    k.requires_grad_()
    y = conv_run(x, k, p)
    y.backward(dy)
    return {'name': name, 'params': p, 'inputs': {'x': xj, 'w': wj, 'dy': dyj},
            'outputs': {'y': checks(y, seed + 3), 'dx': checks(x.grad, seed + 4), 'dw': checks(k.grad, seed + 5)}}


def conv_fixture():
    cases = [
        conv_case('s1_valid_c1_f5', 2, 7, 7, 1, 5, 3, 3),
        conv_case('s2_same_c3_f6', 2, 8, 9, 3, 6, 3, 3, s=(2, 2), padding='same'),
        conv_case('d2_valid_c3_f5', 1, 9, 10, 3, 5, 3, 3, d=(2, 2)),
        conv_case('k2x3_s1x2_same_c4_f5', 2, 6, 7, 4, 5, 2, 3, s=(1, 2), padding='same'),
        conv_case('k5_s2_same_d2_c1_f8', 1, 11, 12, 1, 8, 5, 5, s=(2, 2), d=(2, 2), padding='same'),
        conv_case('k1_c7_f5', 3, 3, 2, 7, 5, 1, 1),
        conv_case_generated('cnn_layer1_n2', 10, 2, 28, 28, 1, 32, 3, 3),
        conv_case_generated('cnn_layer2_n2', 20, 2, 13, 13, 32, 64, 3, 3),
    ]
    return {'op': 'conv2d',
            'layout': 'x NHWC [N,H,W,C], w HWIO [KH,KW,C,F], y and dy NHWC [N,OH,OW,F]; no bias; '
                      'explicit padding (TF same: extra row/column at bottom/right); '
                      'transposed from torch NCHW/OIHW by the script',
            'generators': HASH_DOC,
            'cases': cases}


# ---- pooling ------------------------------------------------------------------------------------

def pool_case(name, mode, n, h, w, c, k, s, padding, ints=False):
    p = {'mode': mode, 'n': n, 'h': h, 'w': w, 'c': c, 'kh': k, 'kw': k, 'strideH': s, 'strideW': s,
         'padding': padding}
    p.update(geometry(h, w, k, k, s, s, 1, 1, padding))
    x = (torch.randint(0, 3, (n, h, w, c)).double() if ints else rand(n, h, w, c)).requires_grad_()
    pad = (p['padLeft'], p['padRight'], p['padTop'], p['padBottom'])
    if mode == 'max':
        y = F.max_pool2d(F.pad(nchw(x), pad, value=-math.inf), k, s)
    else:  # TF excludes padded cells: sum over the window / number of real cells in it
        total = F.avg_pool2d(F.pad(nchw(x), pad), k, s)
        count = F.avg_pool2d(F.pad(torch.ones_like(nchw(x)), pad), k, s)
        y = total / count
    y = nhwc(y)
    assert list(y.shape) == [n, p['oh'], p['ow'], c], (y.shape, p)
    dy = rand(*y.shape)
    y.backward(dy)
    return {'name': name, 'params': p, 'inputs': {'x': enc(x), 'dy': enc(dy)},
            'outputs': {'y': enc(y), 'dx': enc(x.grad)}}


def pool_fixture():
    cases = [
        pool_case('max_2x2_s2_valid_7x7', 'max', 2, 7, 7, 3, 2, 2, 'valid'),
        pool_case('avg_2x2_s2_valid_7x7', 'avg', 2, 7, 7, 3, 2, 2, 'valid'),
        pool_case('max_3x3_s2_same_7x8', 'max', 2, 7, 8, 5, 3, 2, 'same'),
        pool_case('avg_3x3_s2_same_7x8', 'avg', 2, 7, 8, 5, 3, 2, 'same'),
        pool_case('max_3x3_s2_same_8x8_c1', 'max', 1, 8, 8, 1, 3, 2, 'same'),
        pool_case('avg_3x3_s2_same_8x8_c1', 'avg', 1, 8, 8, 1, 3, 2, 'same'),
        pool_case('max_2x2_s2_valid_ties', 'max', 1, 6, 5, 2, 2, 2, 'valid', ints=True),
        pool_case('max_3x3_s1_same_ties', 'max', 1, 5, 5, 2, 3, 1, 'same', ints=True),
    ]
    return {'op': 'pool2d',
            'layout': 'x, dx NHWC [N,H,W,C]; y, dy NHWC [N,OH,OW,C]; explicit TF padding (extra at bottom/right); '
                      'max: padded cells are -inf, ties go to the first maximum in row-major window order; '
                      'avg: padded cells excluded from the count; transposed from torch NCHW by the script',
            'cases': cases}


# ---- softmax / cross-entropy --------------------------------------------------------------------

def softmax_case(name, logits):
    b, c = logits.shape
    labels = torch.randint(0, c, (b,))
    z = logits.clone().requires_grad_()
    loss = F.cross_entropy(z, labels)
    loss.backward()
    return {'name': name, 'params': {'rows': b, 'cols': c},
            'inputs': {'logits': enc(logits), 'labels': enc(labels)},
            'outputs': {'logSoftmax': enc(F.log_softmax(logits, -1)), 'softmax': enc(F.softmax(logits, -1)),
                        'loss': enc(loss), 'dLogits': enc(z.grad)}}


def softmax_fixture():
    big = rand(4, 9, scale=30).clamp(-50, 50)
    big[0, 0], big[1, 3], big[2, 8], big[3] = 50, -50, 50, torch.tensor([50, 50, -50, 49.5, 0, -50, 50, 1, -49])
    cases = [
        softmax_case('b4_c10', rand(4, 10, scale=2)),
        softmax_case('b4_c9_pm50', big.apply_(r8)),
        softmax_case('b3_c1', rand(3, 1)),
        softmax_case('b2_c257', rand(2, 257, scale=3)),
        softmax_case('b32_c10', rand(32, 10, scale=4)),
    ]
    return {'op': 'softmax_cross_entropy',
            'layout': 'logits [B,C] row-major, labels [B] int; logSoftmax, softmax [B,C]; '
                      'loss = mean over B of -logSoftmax[b, label_b] (shape []); dLogits = (softmax - onehot)/B',
            'cases': cases}


# ---- output -------------------------------------------------------------------------------------

def dump(obj, indent=0):
    """JSON with structure indented and each number list on one line."""
    pad = ' ' * indent
    if isinstance(obj, dict):
        items = [f'{pad} {json.dumps(k)}: {dump(v, indent + 1).lstrip()}' for k, v in obj.items()]
        return pad + '{\n' + ',\n'.join(items) + '\n' + pad + '}'
    if isinstance(obj, list) and obj and isinstance(obj[0], dict):
        return pad + '[\n' + ',\n'.join(dump(v, indent + 1) for v in obj) + '\n' + pad + ']'
    return pad + json.dumps(obj, separators=(',', ':'))


def write_fixtures(makers, generated_by):
    """Writes test/fixtures/<name>.json for each (name, make) pair, stamped with `generated_by`."""
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, make in makers:
        path = os.path.join(OUT_DIR, name + '.json')
        fixture = make()
        fixture['generatedBy'] = generated_by
        with open(path, 'w') as f:
            f.write(dump(fixture) + '\n')
        print(f'wrote {os.path.relpath(path)} ({os.path.getsize(path) // 1024} KB, {len(fixture["cases"])} cases)')


def main():
    write_fixtures([('matmul', matmul_fixture), ('conv2d', conv_fixture), ('pool2d', pool_fixture),
                    ('softmax_cross_entropy', softmax_fixture)],
                   f'scripts/make-fixtures.py, torch {torch.__version__}, float64, seed 1234')


if __name__ == '__main__':
    main()
