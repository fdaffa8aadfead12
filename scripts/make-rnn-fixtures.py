"""Writes test/fixtures/rnn.json: PyTorch (1.13) references for SimpleRNN, LSTM and GRU, outputs and gradients.

Run from the repository root with Debian's PyTorch:

    /usr/bin/python3 scripts/make-rnn-fixtures.py

Every case holds Keras-layout weights (kernel [F, G*U], recurrentKernel [U, G*U], bias), an input x [N, T, F], initial
states, and random projections ry, rh, rc; the loss is L = sum(y*ry) + sum(h*rh) (+ sum(c*rc)) with y the whole output
sequence (Keras return_sequences, in processing order) and h, c the final states. Stored: y, h, c and dL/d of x, h0, c0,
kernel, recurrentKernel, bias, all in float64 from float32-representable inputs, rounded to 8 significant digits.

The weights are mapped to PyTorch's layout (this is the permutation the doc comments of the layers describe):
- LSTM: weight_ih = kernel^T, weight_hh = recurrentKernel^T (gate order i, f, c|g, o is the same in both),
  bias_ih = bias, bias_hh = 0.
- GRU (reset_after): Keras gate blocks (z, r, h) become PyTorch's (r, z, n): weight_ih = kernel^T with row blocks
  [r, z, h], likewise weight_hh from recurrentKernel; bias_ih / bias_hh are the two rows of Keras' bias [2, 3U],
  reordered the same way.
- SimpleRNN: weight_ih = kernel^T, weight_hh = recurrentKernel^T, bias_ih = bias, bias_hh = 0.
Keras' go_backwards is PyTorch run on the time-flipped input (the outputs then are in processing order, as Keras's).

Cases PyTorch has no module for are computed by a loop of PyTorch ops (autograd gives the gradients), marked
'reference': 'torch ops loop': masks (Keras semantics as its TensorFlow backend: a masked step keeps the states and
outputs the previous step's output, zeros before the first real step; zero_output_for_mask outputs zeros) and GRU with
reset_after=False (n = tanh(x W_h + b_h + (r * h) U_h)), and activations nn.LSTM / nn.GRU have no option for
(hard_sigmoid gates: PyTorch's F.hardsigmoid, Keras 3's; relu cells). Options 'returnSequences': false store y as the
last output [N, U] (Keras: the last step processed); 'useBias': false cases have no bias (and no dbias).
"""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'rnn.json')
DIGITS = 8
torch.manual_seed(2024)


def r8(v):
    return float('%.*g' % (DIGITS, v))


def rand(*shape, scale=1.0):
    """float32-representable values, rounded to DIGITS, as a float64 tensor."""
    return (torch.randn(*shape, dtype=torch.float32) * scale).double().apply_(r8)


def enc(t):
    return {'shape': list(t.shape), 'data': [r8(v) for v in t.detach().flatten().tolist()]}


GATES = {'SimpleRNN': 1, 'LSTM': 4, 'GRU': 3}


def gru_reorder(w, u):
    """Keras (z, r, h) blocks along dim 0 of a PyTorch-shaped tensor -> PyTorch (r, z, n)."""
    return torch.cat([w[u:2 * u], w[:u], w[2 * u:]], 0)


def module_run(layer, x, h0, c0, kernel, rec, bias, reset_after, activation):
    """The whole sequence through nn.RNN / nn.LSTM / nn.GRU (batch_first) with Keras weights mapped in."""
    n, t, f = x.shape
    u = rec.shape[0]
    if layer == 'LSTM':
        m = torch.nn.LSTM(f, u, batch_first=True).double()
        w_ih, w_hh, b_ih, b_hh = kernel.t(), rec.t(), bias, torch.zeros_like(bias)
    elif layer == 'GRU':
        m = torch.nn.GRU(f, u, batch_first=True).double()
        w_ih, w_hh = gru_reorder(kernel.t(), u), gru_reorder(rec.t(), u)
        b_ih, b_hh = gru_reorder(bias[0], u), gru_reorder(bias[1], u)
    else:
        m = torch.nn.RNN(f, u, batch_first=True, nonlinearity=activation).double()
        w_ih, w_hh, b_ih, b_hh = kernel.t(), rec.t(), bias, torch.zeros_like(bias)
    # The module's parameters are functions of the Keras-layout leaves, so autograd reaches the leaves.
    params = {'weight_ih_l0': w_ih, 'weight_hh_l0': w_hh, 'bias_ih_l0': b_ih, 'bias_hh_l0': b_hh}
    for name in params:
        delattr(m, name)
        setattr(m, name, params[name])
    m._flat_weights = [params[k] for k in m._flat_weights_names]
    state = (h0[None], c0[None]) if layer == 'LSTM' else h0[None]
    y, s = m(x, state)
    if layer == 'LSTM':
        return y, s[0][0], s[1][0]
    return y, s[0], None


ACTS = {'tanh': torch.tanh, 'relu': torch.relu, 'sigmoid': torch.sigmoid, 'linear': lambda v: v,
        # Keras 3's hard_sigmoid (the library's): clip(x/6 + 1/2, 0, 1), PyTorch's Hardsigmoid.
        'hard_sigmoid': torch.nn.functional.hardsigmoid}


def loop_run(layer, x, h0, c0, kernel, rec, bias, mask, reset_after, zero_output, activation, recurrent_activation='sigmoid'):
    """The Keras recurrence as a loop of torch ops (masks; GRU reset_after=False; activations nn.LSTM / nn.GRU lack)."""
    n, t, f = x.shape
    u = rec.shape[0]
    act, gate = ACTS[activation], ACTS[recurrent_activation]
    h, c = h0, c0
    prev = torch.zeros(n, u, dtype=torch.float64)
    ys = []
    for s in range(t):
        xt = x[:, s]
        if layer == 'LSTM':
            z = xt @ kernel + h @ rec + bias
            i, fg, g, o = gate(z[:, :u]), gate(z[:, u:2 * u]), act(z[:, 2 * u:3 * u]), gate(z[:, 3 * u:])
            cn = fg * c + i * g
            hn = o * act(cn)
        elif layer == 'GRU':
            xp = xt @ kernel + (bias[0] if reset_after else bias)
            if reset_after:
                inner = h @ rec + bias[1]
                zg, rg = gate(xp[:, :u] + inner[:, :u]), gate(xp[:, u:2 * u] + inner[:, u:2 * u])
                nn_ = act(xp[:, 2 * u:] + rg * inner[:, 2 * u:])
            else:
                inner = h @ rec[:, :2 * u]
                zg, rg = gate(xp[:, :u] + inner[:, :u]), gate(xp[:, u:2 * u] + inner[:, u:])
                nn_ = act(xp[:, 2 * u:] + (rg * h) @ rec[:, 2 * u:])
            hn = zg * h + (1 - zg) * nn_
            cn = None
        else:
            hn = act(xt @ kernel + h @ rec + bias)
            cn = None
        if mask is None:
            h, c, out = hn, cn, hn
        else:
            m = mask[:, s:s + 1] != 0
            h = torch.where(m, hn, h)
            c = torch.where(m, cn, c) if cn is not None else None
            out = torch.where(m, hn, torch.zeros_like(hn) if zero_output else prev)
        ys.append(out)
        prev = out
    return torch.stack(ys, 1), h, c


def case(name, layer, n=2, t=5, f=3, u=4, go_backwards=False, mask=None, reset_after=True, zero_output=False,
         activation='tanh', recurrent_activation='sigmoid', return_sequences=True, use_bias=True):
    g = GATES[layer]
    x = rand(n, t, f).requires_grad_()
    h0 = rand(n, u, scale=0.5).requires_grad_()
    c0 = rand(n, u, scale=0.5).requires_grad_() if layer == 'LSTM' else None
    kernel = rand(f, g * u, scale=0.5).requires_grad_()
    rec = rand(u, g * u, scale=0.5).requires_grad_()
    bias = rand(*((2, g * u) if layer == 'GRU' and reset_after else (g * u,)), scale=0.3)
    if use_bias:
        bias.requires_grad_()
    else:
        bias.zero_()
    mask_t = None if mask is None else torch.tensor(mask, dtype=torch.float64)
    xs = torch.flip(x, [1]) if go_backwards else x
    ms = None if mask_t is None else (torch.flip(mask_t, [1]) if go_backwards else mask_t)
    by_module = (mask is None and (layer != 'GRU' or reset_after) and recurrent_activation == 'sigmoid'
                 and (activation == 'tanh' if layer != 'SimpleRNN' else activation in ('tanh', 'relu')))
    if by_module:
        y, h, c = module_run(layer, xs, h0, c0, kernel, rec, bias, reset_after, activation)
    else:
        y, h, c = loop_run(layer, xs, h0, c0, kernel, rec, bias, ms, reset_after, zero_output, activation,
                           recurrent_activation)
    if not return_sequences:
        y = y[:, -1]  # Keras' last output: the last step processed (the first input step with go_backwards)
    ry, rh = rand(*y.shape), rand(*h.shape)
    rc = rand(*c.shape) if c is not None else None
    loss = (y * ry).sum() + (h * rh).sum() + ((c * rc).sum() if c is not None else 0)
    leaves = [x, h0, kernel, rec] + ([bias] if use_bias else []) + ([c0] if c0 is not None else [])
    grads = torch.autograd.grad(loss, leaves)
    names = ['dx', 'dh0', 'dkernel', 'drecurrentKernel'] + (['dbias'] if use_bias else []) + ['dc0']
    options = {'units': u, 'goBackwards': go_backwards, 'activation': activation}
    if layer == 'GRU':
        options['resetAfter'] = reset_after
    if zero_output:
        options['zeroOutputForMask'] = True
    # Options past the first cases' (written only when not Keras' defaults, so those cases stay as they were).
    if recurrent_activation != 'sigmoid':
        options['recurrentActivation'] = recurrent_activation
    if not return_sequences:
        options['returnSequences'] = False
    if not use_bias:
        options['useBias'] = False
    inputs = {'x': enc(x), 'h0': enc(h0), 'kernel': enc(kernel), 'recurrentKernel': enc(rec),
              **({'bias': enc(bias)} if use_bias else {}), 'ry': enc(ry), 'rh': enc(rh)}
    if c0 is not None:
        inputs.update({'c0': enc(c0), 'rc': enc(rc)})
    if mask is not None:
        inputs['mask'] = enc(mask_t)
    outputs = {'y': enc(y), 'h': enc(h)}
    if c is not None:
        outputs['c'] = enc(c)
    for nm, gr in zip(names, grads):
        outputs[nm] = enc(gr)
    return {'name': name, 'layer': layer, 'options': options,
            'reference': 'torch module' if by_module else 'torch ops loop', 'inputs': inputs, 'outputs': outputs}


MASK = [[1, 1, 0, 1, 0], [0, 1, 1, 1, 1]]
# Right padding (the usual maskZero one): the last output is then the last real step's with zeroOutputForMask false.
MASK_TRAILING = [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
# The later cases' sizes (smaller than the first cases', to keep the file small).
SMALL = {'f': 2, 'u': 3}


def main():
    cases = [
        case('lstm', 'LSTM'),
        case('lstm go_backwards N3 T4', 'LSTM', n=3, t=4, go_backwards=True),
        case('lstm masked', 'LSTM', mask=MASK),
        case('gru reset_after', 'GRU'),
        case('gru reset_after go_backwards', 'GRU', n=3, t=4, go_backwards=True),
        case('gru reset_after masked zero_output', 'GRU', mask=MASK, zero_output=True),
        case('gru reset_before', 'GRU', reset_after=False),
        case('gru reset_before masked go_backwards', 'GRU', mask=MASK, reset_after=False, go_backwards=True),
        case('simple_rnn tanh', 'SimpleRNN'),
        case('simple_rnn relu go_backwards', 'SimpleRNN', n=3, t=4, go_backwards=True, activation='relu'),
        case('simple_rnn masked', 'SimpleRNN', mask=MASK),
        # Added later (drawn after the cases above, so those keep their numbers): masks with goBackwards on the fused
        # path (implementation 2), zeroOutputForMask on LSTM and SimpleRNN, the last output (returnSequences false)
        # after trailing padding, no bias, and activations only the loop of small ops runs; F = 2, U = 3.
        case('lstm masked go_backwards', 'LSTM', mask=MASK, go_backwards=True, **SMALL),
        case('lstm masked zero_output', 'LSTM', mask=MASK, zero_output=True, **SMALL),
        case('gru reset_after masked go_backwards', 'GRU', mask=MASK, go_backwards=True, **SMALL),
        case('simple_rnn masked go_backwards zero_output', 'SimpleRNN', mask=MASK, go_backwards=True, zero_output=True, **SMALL),
        case('lstm masked last output (return_sequences false)', 'LSTM', mask=MASK_TRAILING, return_sequences=False, **SMALL),
        case('lstm masked go_backwards last output', 'LSTM', mask=MASK_TRAILING, go_backwards=True, return_sequences=False, **SMALL),
        case('gru reset_after masked last output zero_output', 'GRU', mask=MASK_TRAILING, zero_output=True,
             return_sequences=False, **SMALL),
        case('gru reset_before masked go_backwards last output', 'GRU', mask=MASK, reset_after=False, go_backwards=True,
             return_sequences=False, **SMALL),
        case('simple_rnn masked last output', 'SimpleRNN', mask=MASK_TRAILING, return_sequences=False, **SMALL),
        case('lstm no bias', 'LSTM', use_bias=False, **SMALL),
        case('gru reset_after no bias go_backwards', 'GRU', use_bias=False, go_backwards=True, **SMALL),
        case('gru reset_before no bias', 'GRU', use_bias=False, reset_after=False, **SMALL),
        case('lstm hard_sigmoid gates relu', 'LSTM', recurrent_activation='hard_sigmoid', activation='relu', **SMALL),
        case('gru hard_sigmoid gates masked', 'GRU', recurrent_activation='hard_sigmoid', mask=MASK, **SMALL),
        case('simple_rnn sigmoid', 'SimpleRNN', activation='sigmoid', **SMALL),
        case('simple_rnn linear go_backwards', 'SimpleRNN', activation='linear', go_backwards=True, **SMALL),
    ]
    fixture = {'op': 'rnn', 'generatedBy': f'scripts/make-rnn-fixtures.py, torch {torch.__version__}, float64, seed 2024',
               'loss': 'sum(y*ry) + sum(h*rh) + sum(c*rc); y in processing order (Keras return_sequences)',
               'cases': cases}
    with open(OUT, 'w') as fh:
        fh.write('{\n "op": "rnn",\n "generatedBy": ' + json.dumps(fixture['generatedBy']) + ',\n "loss": '
                 + json.dumps(fixture['loss']) + ',\n "cases": [\n'
                 + ',\n'.join('  ' + json.dumps(c, separators=(',', ':')) for c in cases) + '\n ]\n}\n')
    print(f'wrote {os.path.relpath(OUT)} ({os.path.getsize(OUT) // 1024} KB, {len(cases)} cases)')


if __name__ == '__main__':
    main()
