"""Writes test/fixtures/optim.json: PyTorch (1.13) reference trajectories of SGD (momentum, Nesterov), Adam and AdamW.

Run from the repository root with Debian's PyTorch:

    /usr/bin/python3 scripts/make-optim-fixtures.py

Each case starts from a fixed parameter tensor and applies STEPS optimizer steps with fixed, given
gradients (one per step, not derived from a loss), all in float64 from float32-representable values
(multiples of 1/64). The parameter after every step is stored (8 significant digits is not enough for
a 1e-6 relative check, so values are stored with repr precision).

Epsilon: PyTorch's Adam adds eps to sqrt(v_hat) (bias-corrected); Keras adds its epsilon to sqrt(v)
(uncorrected, "epsilon hat"). The two differ only by eps * (1 - sqrt(1 - beta2^t)), negligible for
eps = 1e-7, which both this script and weightshare use. weightshare follows PyTorch's placement.

The 'float32' section runs the Adam and AdamW cases in float32 (PyTorch's own dtype for training) for F32_STEPS
steps on F32_SIZE elements with random float32 gradients of mixed scales, and stores the parameter after
every step, each float32 as its shortest decimal. weightshare reproduces these bit for bit: its constants (1 - beta,
lr / (1 - beta1^t), sqrt(1 - beta2^t)) are float64 like PyTorch's Python floats, and its kernel follows the
order of PyTorch's CPU kernels, whose add_(alpha) and addcmul_ are fused multiply-adds on AVX2 machines
(`torch.__config__.show()` says "CPU capability usage: AVX2"). Regenerate on such a machine. F32_SIZE is a
multiple of 16 so that PyTorch takes its vector path for every element.
"""
import json
import os

import numpy as np
import torch

STEPS = 5
F32_SIZE = 32
F32_STEPS = 40
torch.manual_seed(0)


def q(t):
    """Rounds to multiples of 1/64 (exact in float32)."""
    return torch.round(t * 64) / 64


P0 = q(torch.randn(2, 3, dtype=torch.float64))
GRADS = [q(torch.randn(2, 3, dtype=torch.float64)) for _ in range(STEPS)]

CASES = [
    ('sgd', {'learningRate': 0.1}, lambda p: torch.optim.SGD([p], lr=0.1)),
    ('sgd', {'learningRate': 0.1, 'momentum': 0.9}, lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9)),
    ('sgd', {'learningRate': 0.05, 'momentum': 0.8, 'nesterov': True},
     lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.8, nesterov=True)),
    ('adam', {'learningRate': 0.01, 'beta1': 0.9, 'beta2': 0.999, 'epsilon': 1e-7},
     lambda p: torch.optim.Adam([p], lr=0.01, betas=(0.9, 0.999), eps=1e-7)),
    ('adam', {'learningRate': 0.1, 'beta1': 0.5, 'beta2': 0.9, 'epsilon': 1e-7},
     lambda p: torch.optim.Adam([p], lr=0.1, betas=(0.5, 0.9), eps=1e-7)),
    ('adamw', {'learningRate': 0.01, 'beta1': 0.9, 'beta2': 0.999, 'epsilon': 1e-7, 'weightDecay': 0.01},
     lambda p: torch.optim.AdamW([p], lr=0.01, betas=(0.9, 0.999), eps=1e-7, weight_decay=0.01)),
    ('adamw', {'learningRate': 0.1, 'beta1': 0.8, 'beta2': 0.95, 'epsilon': 1e-7, 'weightDecay': 0.5},
     lambda p: torch.optim.AdamW([p], lr=0.1, betas=(0.8, 0.95), eps=1e-7, weight_decay=0.5)),
]


def run(make, p0, grads, dump):
    """Applies one step per gradient to a copy of p0 and returns dump(p) after each step."""
    p = p0.clone().requires_grad_(True)
    opt = make(p)
    traj = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        traj.append(dump(p))
    return traj


def f64s(t):
    """The values of t as Python floats."""
    return [float(v) for v in t.detach().flatten()]


def f32s(t):
    """Each float32 of t as the shortest decimal that rounds back to it (via float64, as JavaScript reads it)."""
    out = []
    for v in t.detach().flatten().numpy():
        d = float(np.format_float_positional(v, unique=True, trim='-'))
        assert np.float32(d) == v
        out.append(d)
    return out


def float32_section():
    """The Adam and AdamW cases in float32: F32_STEPS steps of random gradients (scales 1e-4 to 1)."""
    g = torch.Generator().manual_seed(1)
    p0 = torch.randn(F32_SIZE, generator=g)
    scale = 10.0 ** (-4 * torch.rand(F32_SIZE, generator=g))
    grads = [torch.randn(F32_SIZE, generator=g) * scale for _ in range(F32_STEPS)]
    cases = [{'optimizer': name, 'config': cfg, 'trajectory': run(make, p0, grads, f32s)}
             for name, cfg, make in CASES if name != 'sgd']
    return {'param': f32s(p0), 'grads': [f32s(gt) for gt in grads], 'cases': cases}


def main():
    cases = [{'optimizer': name, 'config': cfg, 'trajectory': run(make, P0, GRADS, f64s)} for name, cfg, make in CASES]
    out = {
        'generator': 'scripts/make-optim-fixtures.py',
        'torch': torch.__version__,
        'shape': list(P0.shape),
        'param': f64s(P0),
        'grads': [f64s(g) for g in GRADS],
        'cases': cases,
        'float32': float32_section(),
    }
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
    path = os.path.join(root, 'test', 'fixtures', 'optim.json')
    with open(path, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(f'wrote {path}: {len(cases)} cases, torch {torch.__version__}')


if __name__ == '__main__':
    main()
