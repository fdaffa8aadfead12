"""Writes test/fixtures/sequence_models.json: PyTorch (1.13) module references for padded token sequences through
Embedding(maskZero) -> Bidirectional(SimpleRNN | LSTM | GRU) and Embedding(maskZero) -> two stacked LSTM / GRU layers,
outputs and gradients.

Run from the repository root with Debian's PyTorch:

    /usr/bin/python3 scripts/make-sequence-model-fixtures.py

The ids are right-padded with 0 (lengths 5, 3, 1 of T = 5), so Keras' masking (a masked step keeps the states, outputs
the previous output, or zeros with zeroOutputForMask; the backward layer meets the padding first, before any real step)
is PyTorch's packed sequences: F.embedding, then pack_padded_sequence through nn.RNN / nn.LSTM / nn.GRU
(bidirectional=True, or num_layers=2), so no hand-written recurrence is involved:
- Bidirectional with returnSequences: both halves output zeros at padding (Keras sets zero_output_for_mask =
  return_sequences), the backward half flipped back in time, = pad_packed_sequence's [N, T, 2U] split in two halves,
  merged by mergeMode (concat, sum, mul, ave; null keeps the two).
- Bidirectional without returnSequences: the forward half's last output is the last real step's (repeated over the
  padding) = h_n[0]; the backward half's is its output at input step 0 = h_n[1]; merged likewise.
- returnState: the forward layer's h (, c), then the backward layer's = h_n[0] (, c_n[0]), h_n[1] (, c_n[1]); initial
  states likewise (h0[0], c0[0] forward, h0[1], c0[1] backward).
- Stacked: layer 1 (returnSequences, returnState) passes its sequence and its mask on to layer 2 (returnState, last
  output): outputs [y2, h2 (, c2), h1 (, c1)] = [h_n[1], h_n[1] (, c_n[1]), h_n[0] (, c_n[0])].
Weights in Keras layout mapped to PyTorch's as in scripts/make-rnn-fixtures.py (LSTM bias = bias_ih, bias_hh = 0;
GRU gate blocks (z, r, h) -> (r, z, n), bias [2, 3U] = bias_ih, bias_hh). The loss is sum_k sum(out_k * r_k) over the
model's outputs; stored: the weights by the model's weight names, ids, initial states, r_k, the outputs and dL/d of
the table, every weight and the initial states, in float64 from float32-representable inputs (8 significant digits).
The table's padding row 0 gets no gradient (its steps are masked out).
"""
import importlib.util
import json
import os

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'sequence_models.json')
_spec = importlib.util.spec_from_file_location('make_rnn_fixtures', os.path.join(HERE, 'make-rnn-fixtures.py'))
rnn = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rnn)
rand, enc, gru_reorder, GATES = rnn.rand, rnn.enc, rnn.gru_reorder, rnn.GATES
LENGTHS = [5, 3, 1]
T = 5
MODULES = {'SimpleRNN': torch.nn.RNN, 'LSTM': torch.nn.LSTM, 'GRU': torch.nn.GRU}
NAMES = {'SimpleRNN': 'simple_rnn', 'LSTM': 'lstm', 'GRU': 'gru'}


def keras_weights(cell, f, u):
    """Keras-layout leaves {kernel, recurrentKernel, bias} for one layer."""
    g = GATES[cell]
    return {'kernel': rand(f, g * u, scale=0.5).requires_grad_(), 'recurrentKernel': rand(u, g * u, scale=0.5).requires_grad_(),
            'bias': rand(*((2, g * u) if cell == 'GRU' else (g * u,)), scale=0.3).requires_grad_()}


def torch_params(cell, w, u):
    """PyTorch's weight_ih, weight_hh, bias_ih, bias_hh from the Keras leaves (autograd reaches the leaves)."""
    if cell == 'GRU':
        return (gru_reorder(w['kernel'].t(), u), gru_reorder(w['recurrentKernel'].t(), u), gru_reorder(w['bias'][0], u),
                gru_reorder(w['bias'][1], u))
    return w['kernel'].t(), w['recurrentKernel'].t(), w['bias'], torch.zeros_like(w['bias'])


def module(cell, e, u, layers, suffixes):
    """nn.RNN / nn.LSTM / nn.GRU whose parameters are the given tensors: layers[k] for suffixes[k] ('l0', 'l0_reverse', 'l1')."""
    m = MODULES[cell](e, u, batch_first=True, num_layers=2 if 'l1' in suffixes else 1,
                      bidirectional='l0_reverse' in suffixes).double()
    params = {}
    for sfx, p in zip(suffixes, layers):
        for nm, t in zip(['weight_ih_', 'weight_hh_', 'bias_ih_', 'bias_hh_'], p):
            params[nm + sfx] = t
    for name in params:
        delattr(m, name)
        setattr(m, name, params[name])
    m._flat_weights = [params[k] for k in m._flat_weights_names]
    return m


def ids_and_table(v, e):
    ids = torch.randint(1, v, (len(LENGTHS), T))
    for i, n in enumerate(LENGTHS):
        ids[i, n:] = 0
    return ids, rand(v, e).requires_grad_()


def states(cell, count, n, u):
    """Initial states: [count, N, U] h (and c for LSTM) leaves, or None."""
    if not count:
        return None
    return [rand(count, n, u, scale=0.5).requires_grad_() for _ in range(2 if cell == 'LSTM' else 1)]


def run(m, cell, x, s0):
    packed = pack_padded_sequence(x, torch.tensor(LENGTHS), batch_first=True, enforce_sorted=False)
    init = None if s0 is None else (tuple(s0) if cell == 'LSTM' else s0[0])
    y, s = m(packed, init)
    y, _ = pad_packed_sequence(y, batch_first=True, total_length=T)
    return y, (list(s) if cell == 'LSTM' else [s])


def finish(name, kind, options, ids, table, leaves, s0, outs, v):
    rs = [rand(*o.shape) for o in outs]
    loss = sum((o * r).sum() for o, r in zip(outs, rs))
    s0 = s0 or []
    grads = torch.autograd.grad(loss, [table, *leaves.values(), *s0])
    inputs = {'ids': enc(ids), 'weights': {'embedding/embeddings': enc(table), **{k: enc(t) for k, t in leaves.items()}},
              'r': [enc(r) for r in rs]}
    # Initial states as the model takes them: one [N, U] tensor per layer (direction) and state, layer by layer.
    init = [s[k] for k in range(s0[0].shape[0]) for s in s0] if s0 else []
    if init:
        inputs['initialStates'] = [enc(t) for t in init]
    d_init = [g[k] for k in range(s0[0].shape[0]) for g in grads[1 + len(leaves):]] if s0 else []
    outputs = {'outputs': [enc(o) for o in outs],
               'dWeights': {'embedding/embeddings': enc(grads[0]), **{k: enc(g) for k, g in zip(leaves, grads[1:])}},
               **({'dInitialStates': [enc(g) for g in d_init]} if d_init else {})}
    assert float(grads[0][0].abs().max()) == 0, 'padding row has no gradient'
    return {'name': name, 'kind': kind, 'options': {'inputDim': v, 'outputDim': table.shape[1], **options},
            'inputs': inputs, 'outputs': outputs}


def bidirectional(name, cell, merge, return_sequences, return_state=False, initial_states=False, v=8, e=2, u=3):
    ids, table = ids_and_table(v, e)
    base = NAMES[cell]
    wf, wb = keras_weights(cell, e, u), keras_weights(cell, e, u)
    leaves = {f'bidirectional/forward_{base}/{k}': t for k, t in wf.items()}
    leaves.update({f'bidirectional/backward_{base}/{k}': t for k, t in wb.items()})
    s0 = states(cell, 2 if initial_states else 0, len(LENGTHS), u)
    m = module(cell, e, u, [torch_params(cell, wf, u), torch_params(cell, wb, u)], ['l0', 'l0_reverse'])
    y, s = run(m, cell, torch.nn.functional.embedding(ids, table), s0)
    if return_sequences:
        yf, yb = y[..., :u], y[..., u:]
    else:
        yf, yb = s[0][0], s[0][1]
    merged = {'concat': [torch.cat([yf, yb], -1)], 'sum': [yf + yb], 'mul': [yf * yb], 'ave': [(yf + yb) / 2],
              None: [yf, yb]}[merge]
    outs = merged + ([t[0] for t in s] + [t[1] for t in s] if return_state else [])
    return finish(name, 'bidirectional', {'cell': cell, 'units': u, 'mergeMode': merge, 'returnSequences': return_sequences,
                                          'returnState': return_state, 'initialStates': initial_states},
                  ids, table, leaves, s0, outs, v)


def stacked(name, cell, initial_states=False, v=8, e=2, u=3):
    ids, table = ids_and_table(v, e)
    base = NAMES[cell]
    w1, w2 = keras_weights(cell, e, u), keras_weights(cell, u, u)
    leaves = {f'{base}_1/{k}': t for k, t in w1.items()}
    leaves.update({f'{base}_2/{k}': t for k, t in w2.items()})
    s0 = states(cell, 2 if initial_states else 0, len(LENGTHS), u)
    m = module(cell, e, u, [torch_params(cell, w1, u), torch_params(cell, w2, u)], ['l0', 'l1'])
    _, s = run(m, cell, torch.nn.functional.embedding(ids, table), s0)
    outs = [s[0][1]] + [t[1] for t in s] + [t[0] for t in s]
    return finish(name, 'stacked', {'cell': cell, 'units': u, 'initialStates': initial_states}, ids, table, leaves, s0,
                  outs, v)


def main():
    torch.manual_seed(77)
    cases = [
        bidirectional('bidirectional LSTM concat, last output, initial and returned states', 'LSTM', 'concat', False,
                      return_state=True, initial_states=True),
        bidirectional('bidirectional LSTM sum, last output', 'LSTM', 'sum', False),
        bidirectional('bidirectional LSTM mul, sequences', 'LSTM', 'mul', True),
        bidirectional('bidirectional LSTM ave, sequences, returned states, table of 20 rows (no lookup)', 'LSTM', 'ave',
                      True, return_state=True, v=20),
        bidirectional('bidirectional GRU concat, sequences, initial states', 'GRU', 'concat', True, initial_states=True),
        bidirectional('bidirectional GRU ave, last output, returned states', 'GRU', 'ave', False, return_state=True),
        bidirectional('bidirectional GRU mergeMode null, sequences', 'GRU', None, True),
        bidirectional('bidirectional SimpleRNN mul, last output', 'SimpleRNN', 'mul', False),
        stacked('two stacked LSTM, initial states', 'LSTM', initial_states=True),
        stacked('two stacked GRU', 'GRU'),
    ]
    with open(OUT, 'w') as fh:
        json.dump({'generator': 'scripts/make-sequence-model-fixtures.py', 'torch': torch.__version__,
                   'lengths': LENGTHS, 'cases': cases}, fh, separators=(',', ':'))
        fh.write('\n')
    print(f'wrote {os.path.relpath(OUT)} ({os.path.getsize(OUT) // 1024} KB, {len(cases)} cases)')


if __name__ == '__main__':
    main()
