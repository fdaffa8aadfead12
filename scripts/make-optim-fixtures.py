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
"""
import json
import os

import torch

STEPS = 5
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


def run(make):
    p = P0.clone().requires_grad_(True)
    opt = make(p)
    traj = []
    for g in GRADS:
        p.grad = g.clone()
        opt.step()
        traj.append([float(v) for v in p.detach().flatten()])
    return traj


def main():
    cases = [{'optimizer': name, 'config': cfg, 'trajectory': run(make)} for name, cfg, make in CASES]
    out = {
        'generator': 'scripts/make-optim-fixtures.py',
        'torch': torch.__version__,
        'shape': list(P0.shape),
        'param': [float(v) for v in P0.flatten()],
        'grads': [[float(v) for v in g.flatten()] for g in GRADS],
        'cases': cases,
    }
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
    path = os.path.join(root, 'test', 'fixtures', 'optim.json')
    with open(path, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(f'wrote {path}: {len(cases)} cases, torch {torch.__version__}')


if __name__ == '__main__':
    main()
