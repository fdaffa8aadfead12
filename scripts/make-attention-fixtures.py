"""Writes the PyTorch reference fixture of the MultiHeadAttention layer (test/fixtures/attention.json).

Run from the repository root with Debian's PyTorch (1.13):

    /usr/bin/python3 scripts/make-attention-fixtures.py

Keras 3's MultiHeadAttention computed explicitly with einsum in float64, on float32-representable inputs and weights
(fixed torch seed), rounded to 8 significant digits (helpers shared with scripts/make-fixtures.py). The weights have
Keras' layout, which torch.nn.MultiheadAttention does not share (it packs in_proj_weight [3·E, E] as
[q; k; v] rows of out × in and needs equal head sizes), so nothing is mapped to it:

    Q = einsum('btd,dhk->bthk', query, Wq) + bq      Wq [dq, H, Dk], bq [H, Dk]   (K, V alike from key, value)
    S = einsum('bshk,bthk->bhts', K, Q / sqrt(Dk))                                 (Keras scales Q first)
    P = softmax(S + (1 - M)·(-1e9), axis=-1) · M                                   (Keras' masked Softmax)
    O = einsum('bhts,bshv->bthv', P, V)
    y = einsum('bthv,hvo->bto', O, Wo) + bo          Wo [H, Dv, out], bo [out]

M [B, Tq, Tv] = query mask [B, Tq, 1] & value mask [B, 1, Tv] & key mask [B, 1, Tv] & causal (j <= i), the masks
being the inputs' Keras masks (Keras' _compute_attention_mask); dropout 0. Each case stores the inputs, their masks
(null where none), the weights by Keras path, an upstream gradient dy, the output y and the gradients of every input
and every weight (an input used several times, as in self-attention, gets the sum).
"""
import importlib.util
import math
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location('make_fixtures', os.path.join(HERE, 'make-fixtures.py'))
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)
enc, rand = base.enc, base.rand
NEG = -1e9


def attention(inputs, masks, w, heads, key_dim, causal):
    """Keras' MultiHeadAttention on inputs [query, value, key] (value, key default to the previous one)."""
    query = inputs[0]
    value = inputs[1] if len(inputs) > 1 else query
    key = inputs[2] if len(inputs) > 2 else value
    q = torch.einsum('btd,dhk->bthk', query, w['query/kernel']) + w['query/bias']
    k = torch.einsum('btd,dhk->bthk', key, w['key/kernel']) + w['key/bias']
    v = torch.einsum('btd,dhk->bthk', value, w['value/kernel']) + w['value/bias']
    s = torch.einsum('bshk,bthk->bhts', k, q * (1 / math.sqrt(key_dim)))
    b, tq, tv = query.shape[0], query.shape[1], value.shape[1]
    m = torch.ones(b, tq, tv, dtype=torch.float64)
    qm, vm, km = masks
    if qm is not None:
        m = m * qm[:, :, None]
    if vm is not None:
        m = m * vm[:, None, :]
    if km is not None:
        m = m * km[:, None, :]
    if causal:
        m = m * torch.tril(torch.ones(tq, tv, dtype=torch.float64))
    m = m[:, None]
    p = torch.softmax(s + (1 - m) * NEG, dim=-1) * m
    o = torch.einsum('bhts,bshv->bthv', p, v)
    return torch.einsum('bthv,hvo->bto', o, w['attention_output/kernel']) + w['attention_output/bias']


def case(name, shapes, heads, key_dim, value_dim=None, output_shape=None, causal=False, masks=(None, None, None)):
    """shapes: [B, T, d] of query and optionally value and key; masks: 0/1 lists per input's steps (or None)."""
    value_dim = value_dim or key_dim
    inputs = [rand(*s).requires_grad_() for s in shapes]
    dq = shapes[0][2]
    dv = shapes[1][2] if len(shapes) > 1 else dq
    dk = shapes[2][2] if len(shapes) > 2 else dv
    out = output_shape or dq
    w = {
        'query/kernel': rand(dq, heads, key_dim, scale=0.5), 'query/bias': rand(heads, key_dim, scale=0.2),
        'key/kernel': rand(dk, heads, key_dim, scale=0.5), 'key/bias': rand(heads, key_dim, scale=0.2),
        'value/kernel': rand(dv, heads, value_dim, scale=0.5), 'value/bias': rand(heads, value_dim, scale=0.2),
        'attention_output/kernel': rand(heads, value_dim, out, scale=0.5), 'attention_output/bias': rand(out, scale=0.2),
    }
    for t in w.values():
        t.requires_grad_()
    mt = [None if m is None else torch.tensor(m, dtype=torch.float64) for m in masks]
    y = attention(inputs, mt, w, heads, key_dim, causal)
    dy = rand(*y.shape)
    y.backward(dy)
    return {
        'name': name, 'numHeads': heads, 'keyDim': key_dim, 'valueDim': value_dim, 'outputShape': output_shape,
        'useCausalMask': causal, 'inputs': [enc(x) for x in inputs],
        'masks': [None if m is None else enc(m) for m in mt[:len(shapes)]],
        'weights': {k: enc(t) for k, t in w.items()}, 'dy': enc(dy), 'y': enc(y),
        'dInputs': [enc(x.grad) for x in inputs], 'dWeights': {k: enc(t.grad) for k, t in w.items()},
    }


def attention_fixture():
    pad = [[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]]
    return {'layer': 'keras.layers.MultiHeadAttention, explicit einsum', 'maskedScore': NEG, 'cases': [
        case('self-attention, causal, [2, 5, 6], 2 heads of 3', [[2, 5, 6]], 2, 3, causal=True),
        case('cross-attention [2, 4, 6] to value [2, 5, 8] and key [2, 5, 7], 3 heads, keyDim 2, valueDim 4, '
             'outputShape 5', [[2, 4, 6], [2, 5, 8], [2, 5, 7]], 3, 2, value_dim=4, output_shape=5),
        case('padding mask on the value (maskZero-style), query [2, 3, 4] unmasked, value [2, 5, 4], 2 heads of 2',
             [[2, 3, 4], [2, 5, 4]], 2, 2, masks=(None, pad, None)),
        case('self-attention with a padding mask and causal: padded query steps give the output bias',
             [[2, 5, 4]], 2, 3, causal=True, masks=(pad, pad, None)),
    ]}


def main():
    torch.manual_seed(2025)
    base.write_fixtures([('attention', attention_fixture)],
                        f'scripts/make-attention-fixtures.py, torch {torch.__version__}, float64, seed 2025')


if __name__ == '__main__':
    main()
