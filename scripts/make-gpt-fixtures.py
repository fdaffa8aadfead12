"""Writes the PyTorch reference fixture of the GPT model (test/fixtures/gpt.json), read by test/nn/gpt.test.ts.

Run from the repository root with Debian's PyTorch (1.13):

    /usr/bin/python3 scripts/make-gpt-fixtures.py

A tiny GPT of scripts/reference-gpt.py (2 layers, dim 16, 2 heads, context 8, vocabulary 11, ffDim 32) in float64,
with float32-representable random weights (fixed torch seed, 8 significant digits; helpers shared with
scripts/make-fixtures.py) instead of its initialisers, on ids [2, 8] with labels [2, 8]: the logits [2, 8, 11], the
mean cross-entropy over every position and the gradient of every parameter, by weightshare path and in Keras
layouts (keras_weights() there). A shared sub-block or the tied table appears once, with its summed gradient.
Cases: no sharing (learned positions); everything shared with a factorised embedding (E = 6), a tied output and the
sine encoding; the attention sub-block shared with a tied output (E = dim).
"""
import importlib.util
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


base = load('make_fixtures', 'make-fixtures.py')
gpt = load('reference_gpt', 'reference-gpt.py')
enc, rand = base.enc, base.rand
V, T, DIM, HEADS, LAYERS, FF = 11, 8, 16, 2, 2, 32


def case(name, share, factorized=None, tied=False, position='learned'):
    model = gpt.GPT(V, T, DIM, HEADS, LAYERS, FF, 0.0, share, factorized, tied, position).double()
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if pname.endswith('norm.weight'):
                p.copy_(1 + 0.2 * rand(*p.shape))
            elif pname.endswith('norm.bias') or pname.endswith('.bias'):
                p.copy_(0.2 * rand(*p.shape))
            else:
                p.copy_(0.4 * rand(*p.shape))
        if position == 'sine':
            model.sine = gpt.sine_encoding(T, DIM)
    ids = torch.randint(0, V, (2, T))
    labels = torch.randint(0, V, (2, T))
    logits = model(ids)
    loss = F.cross_entropy(logits.reshape(-1, V), labels.reshape(-1))
    loss.backward()
    config = {'vocab': V, 'context': T, 'dim': DIM, 'heads': HEADS, 'layers': LAYERS, 'ffDim': FF, 'shareLayers': share,
              'tied': tied, 'position': position}
    if factorized:
        config['factorizedEmbedding'] = factorized
    return {'name': name, 'config': config, 'ids': enc(ids), 'labels': enc(labels),
            'weights': {k: enc(v) for k, v in gpt.keras_weights(model).items()},
            'logits': enc(logits), 'loss': base.r8(loss.item()),
            'grads': {k: enc(v) for k, v in gpt.keras_weights(model, grad=True).items()}}


def gpt_fixture():
    return {'model': 'scripts/reference-gpt.py GPT, float64; loss = mean cross-entropy over [2, 8] positions',
            'cases': [case('no sharing, learned positions', 'none'),
                      case('all shared, factorised E = 6, tied, sine', 'all', factorized=6, tied=True, position='sine'),
                      case('attention shared, tied', 'attention', tied=True)]}


def main():
    torch.manual_seed(2025)
    base.write_fixtures([('gpt', gpt_fixture)], f'scripts/make-gpt-fixtures.py, torch {torch.__version__}, float64, seed 2025')


if __name__ == '__main__':
    main()
