"""Writes the PyTorch reference fixtures of the Embedding and LayerNormalization layers and of tied embeddings
(test/fixtures/embedding.json, layer_normalization.json, tied_embedding.json).

Run from the repository root with Debian's PyTorch (1.13):

    /usr/bin/python3 scripts/make-layer-fixtures.py

Everything is computed in float64 from float32-representable inputs (fixed torch seed), then rounded to 8
significant digits (helpers shared with scripts/make-fixtures.py). Each case gives the inputs, the weights, an
upstream gradient `dy` (or a loss) and the outputs and gradients PyTorch computes:

- embedding: F.embedding(ids, table) with repeated ids (their rows' gradients accumulate);
- layer_normalization: F.layer_norm with eps 1e-3 (Keras' default; later cases store their own epsilon) over the
  trailing axes; a non-trailing axis (Keras axis=1 on
  [N, T, C]) is F.layer_norm of the input with that axis moved last, moved back;
- tied_embedding: Embedding(V=7, E=4) -> Linear(E -> V) with decoder.weight = encoder.weight (PyTorch's
  word-language-model tying), applied at every step of [N, T] ids, mean cross-entropy: the gradient of the one
  table is the sum of both uses.
"""
import importlib.util
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location('make_fixtures', os.path.join(HERE, 'make-fixtures.py'))
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)
enc, rand = base.enc, base.rand
EPS = 1e-3


def embedding_fixture():
    cases = []
    for name, ids, v, e in [
        ('ids [2, 5] with repeats', [[1, 3, 3, 0, 6], [3, 1, 1, 1, 2]], 7, 4),
        ('one id per sample [4]', [5, 0, 5, 2], 6, 3),
        ('ids [2, 2, 3]', [[[0, 1, 2], [2, 2, 1]], [[4, 0, 0], [3, 3, 3]]], 5, 2),
    ]:
        idx = torch.tensor(ids, dtype=torch.int64)
        table = rand(v, e).requires_grad_()
        y = F.embedding(idx, table)
        dy = rand(*y.shape)
        y.backward(dy)
        cases.append({'name': name, 'ids': enc(idx), 'embeddings': enc(table), 'dy': enc(dy), 'y': enc(y),
                      'dEmbeddings': enc(table.grad)})
    return {'op': 'F.embedding', 'cases': cases}


def layer_norm_case(name, shape, axes, center=True, scale=True, eps=EPS, offset=0.0):
    """axes: Keras axes (batch = 0), ascending; the trailing ones go straight to F.layer_norm. A case with another
    epsilon than the fixture's stores its own; `offset` is added to x (a large mean over a small spread), x then on a
    grid of 1/32 so that offset + x is exact in float32 and in 8 digits (float32 rounding of 300.xxxxx would move x − mean
    by up to 1.5e-5)."""
    x = rand(*shape, scale=2.0)
    if offset:
        x = offset + torch.round(x * 32) / 32
    x.requires_grad_()
    pshape = [shape[a] for a in axes]
    gamma = (1 + 0.5 * rand(*pshape)).requires_grad_() if scale else None
    beta = (0.5 * rand(*pshape)).requires_grad_() if center else None
    rank = len(shape)
    trailing = axes == list(range(rank - len(axes), rank))
    if trailing:
        y = F.layer_norm(x, pshape, gamma, beta, eps)
    else:
        assert len(axes) == 1, 'one non-trailing axis only'
        xt = x.movedim(axes[0], -1)
        y = F.layer_norm(xt, pshape, gamma, beta, eps).movedim(-1, axes[0])
    dy = rand(*y.shape)
    y.backward(dy)
    case = {'name': name, 'axis': axes, 'center': center, 'scale': scale, **({'epsilon': eps} if eps != EPS else {}),
            'x': enc(x), 'dy': enc(dy), 'y': enc(y),
            'dx': enc(x.grad)}
    if scale:
        case.update({'gamma': enc(gamma), 'dGamma': enc(gamma.grad)})
    if center:
        case.update({'beta': enc(beta), 'dBeta': enc(beta.grad)})
    return case


def layer_norm_fixture():
    cases = [
        layer_norm_case('axis -1 on [2, 3, 5]', [2, 3, 5], [2]),
        layer_norm_case('axes [1, 2] on [2, 3, 5]', [2, 3, 5], [1, 2]),
        layer_norm_case('axis 1 on [2, 3, 5] (not trailing)', [2, 3, 5], [1]),
        layer_norm_case('axis -1 on [4, 6], no center, no scale', [4, 6], [1], center=False, scale=False),
    ]
    # Added later, from a seed of their own so the cases above and the tied fixture drawn after them keep their numbers:
    # center or scale alone, PyTorch's and BERT's epsilons, a large one, and a mean far from 0 (fused and composed paths).
    with torch.random.fork_rng():
        torch.manual_seed(2025)
        cases += [
            layer_norm_case('axis -1 on [3, 8], center only, eps 1e-5', [3, 8], [1], scale=False, eps=1e-5),
            layer_norm_case('axis -1 on [2, 2, 6], scale only, eps 1e-12', [2, 2, 6], [2], center=False, eps=1e-12),
            layer_norm_case('axis -1 on [3, 4], eps 0.5', [3, 4], [1], eps=0.5),
            layer_norm_case('axis -1 on [2, 16], mean 300, eps 1e-5', [2, 16], [1], eps=1e-5, offset=300.0),
            layer_norm_case('axes [1, 2] on [2, 3, 4], scale only, eps 1e-5', [2, 3, 4], [1, 2], center=False, eps=1e-5),
            layer_norm_case('axis 1 on [2, 4, 3] (not trailing), center only, mean -50, eps 1e-6', [2, 4, 3], [1],
                            scale=False, eps=1e-6, offset=-50.0),
        ]
    return {'op': 'F.layer_norm', 'epsilon': EPS, 'cases': cases}


def tied_fixture():
    v, e = 7, 4
    ids = torch.tensor([[1, 3, 3], [6, 1, 0]], dtype=torch.int64)
    labels = torch.tensor([[3, 0, 6], [2, 2, 5]], dtype=torch.int64)
    encoder = torch.nn.Embedding(v, e).double()
    decoder = torch.nn.Linear(e, v).double()
    with torch.no_grad():
        encoder.weight.copy_(rand(v, e))
        decoder.bias.copy_(0.5 * rand(v))
    decoder.weight = encoder.weight
    logits = decoder(encoder(ids))
    loss = F.cross_entropy(logits.reshape(-1, v), labels.reshape(-1))
    loss.backward()
    return {'model': 'Embedding(7, 4) -> Linear(4, 7), decoder.weight = encoder.weight, mean cross-entropy',
            'cases': [{'name': 'tied LM step', 'ids': enc(ids), 'labels': enc(labels),
                       'embeddings': enc(encoder.weight), 'bias': enc(decoder.bias), 'logits': enc(logits),
                       'loss': base.r8(loss.item()), 'dEmbeddings': enc(encoder.weight.grad),
                       'dBias': enc(decoder.bias.grad)}]}


def main():
    torch.manual_seed(2024)
    base.write_fixtures([('embedding', embedding_fixture), ('layer_normalization', layer_norm_fixture),
                         ('tied_embedding', tied_fixture)],
                        f'scripts/make-layer-fixtures.py, torch {torch.__version__}, float64, seed 2024')


if __name__ == '__main__':
    main()
