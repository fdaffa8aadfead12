"""Writes test/fixtures/time-sharing.json: PyTorch (1.13) references for recurrent layers with per-step recurrent kernels.

Run from the repository root with Debian's PyTorch:

    /usr/bin/python3 scripts/make-time-sharing-fixtures.py

A layer with `steps: S` multiplies h by kernel min(k, S - 1) at step k of its loop (k counted in processing order, so
from the end with goBackwards). Here every step is one call of PyTorch's own cell function (torch.rnn_tanh_cell,
torch.lstm_cell, torch.gru_cell, i.e. nn.RNNCell / nn.LSTMCell / nn.GRUCell) with that step's weight_hh; the per-step
kernels are either free ('untied': recurrentKernel [S, U, G*U]) or W_k = base + a[k] @ b[k] ('lowRankDelta':
base [U, G*U], a [S, U, r], b [S, r, G*U]). Keras layout to PyTorch's as in scripts/make-rnn-fixtures.py:
weight_ih = kernel^T, weight_hh = W_k^T, GRU gate blocks (z, r, h) reordered to (r, z, n) and its bias [2, 3U] split
into bias_ih, bias_hh; LSTM and SimpleRNN take bias as bias_ih and zeros as bias_hh.

The loss is L = sum(y * ry) + sum(h * rh) (+ sum(c * rc)), y the whole output sequence in processing order, h and c
the final states. Stored: the inputs, y, h, c and dL/d of every leaf (x, h0, c0, kernel, bias and the recurrent θ),
in float64 from float32-representable inputs, rounded to 8 significant digits.
"""
import importlib.util
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'time-sharing.json')
# The recurrent fixtures' helpers: float32-representable random tensors, encoding, GATES and the GRU gate reordering.
_spec = importlib.util.spec_from_file_location('make_rnn_fixtures', os.path.join(HERE, 'make-rnn-fixtures.py'))
rnn = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rnn)
rand, enc, gru_reorder, GATES = rnn.rand, rnn.enc, rnn.gru_reorder, rnn.GATES
torch.manual_seed(1207)


def case(name, layer, sharing, steps, rank=0, n=2, t=5, f=3, u=4, go_backwards=False):
    g = GATES[layer]
    x = rand(n, t, f).requires_grad_()
    h0 = rand(n, u, scale=0.5).requires_grad_()
    c0 = rand(n, u, scale=0.5).requires_grad_() if layer == 'LSTM' else None
    kernel = rand(f, g * u, scale=0.5).requires_grad_()
    bias = rand(*((2, g * u) if layer == 'GRU' else (g * u,)), scale=0.3).requires_grad_()
    if sharing == 'untied':
        theta = {'recurrentKernel': rand(steps, u, g * u, scale=0.5).requires_grad_()}
        kernels = [theta['recurrentKernel'][k] for k in range(steps)]
    else:
        theta = {'base': rand(u, g * u, scale=0.5).requires_grad_(), 'a': rand(steps, u, rank, scale=0.5).requires_grad_(),
                 'b': rand(steps, rank, g * u, scale=0.5).requires_grad_()}
        kernels = [theta['base'] + theta['a'][k] @ theta['b'][k] for k in range(steps)]
    if layer == 'GRU':
        w_ih, b_ih, b_hh = gru_reorder(kernel.t(), u), gru_reorder(bias[0], u), gru_reorder(bias[1], u)
        w_hh = [gru_reorder(w.t(), u) for w in kernels]
    else:
        w_ih, b_ih, b_hh = kernel.t(), bias, torch.zeros_like(bias)
        w_hh = [w.t() for w in kernels]
    xs = torch.flip(x, [1]) if go_backwards else x
    h, c = h0, c0
    ys = []
    for k in range(t):
        whh = w_hh[min(k, steps - 1)]
        if layer == 'LSTM':
            h, c = torch.lstm_cell(xs[:, k], (h, c), w_ih, whh, b_ih, b_hh)
        elif layer == 'GRU':
            h = torch.gru_cell(xs[:, k], h, w_ih, whh, b_ih, b_hh)
        else:
            h = torch.rnn_tanh_cell(xs[:, k], h, w_ih, whh, b_ih, b_hh)
        ys.append(h)
    y = torch.stack(ys, 1)
    ry, rh = rand(*y.shape), rand(*h.shape)
    rc = rand(*c.shape) if c is not None else None
    loss = (y * ry).sum() + (h * rh).sum() + ((c * rc).sum() if c is not None else 0)
    leaves = {'x': x, 'h0': h0, 'kernel': kernel, 'bias': bias, **theta, **({'c0': c0} if c0 is not None else {})}
    grads = torch.autograd.grad(loss, list(leaves.values()))
    inputs = {k: enc(v) for k, v in leaves.items()}
    inputs.update({'ry': enc(ry), 'rh': enc(rh), **({'rc': enc(rc)} if rc is not None else {})})
    outputs = {'y': enc(y), 'h': enc(h), **({'c': enc(c)} if c is not None else {})}
    outputs.update({'d' + k: enc(gr) for k, gr in zip(leaves, grads)})
    timeSharing = 'untied' if sharing == 'untied' else {'rank': rank}
    return {'name': name, 'layer': layer, 'options': {'units': u, 'steps': steps, 'timeSharing': timeSharing, 'goBackwards': go_backwards},
            'inputs': inputs, 'outputs': outputs}


def main():
    cases = [
        case('SimpleRNN untied, 3 kernels for 5 steps', 'SimpleRNN', 'untied', 3),
        case('SimpleRNN rank 2, goBackwards', 'SimpleRNN', 'lowRankDelta', 4, rank=2, go_backwards=True),
        case('LSTM rank 2, 3 kernels for 5 steps, goBackwards', 'LSTM', 'lowRankDelta', 3, rank=2, go_backwards=True),
        case('LSTM untied, 5 kernels', 'LSTM', 'untied', 5),
        case('GRU rank 1, 4 kernels for 5 steps', 'GRU', 'lowRankDelta', 4, rank=1),
        case('GRU untied, 7 kernels for 5 steps (two unused)', 'GRU', 'untied', 7),
    ]
    with open(OUT, 'w') as fh:
        json.dump({'generator': 'scripts/make-time-sharing-fixtures.py', 'torch': torch.__version__, 'cases': cases}, fh)
        fh.write('\n')
    print(f'wrote {os.path.relpath(OUT)}: {len(cases)} cases')


if __name__ == '__main__':
    main()
