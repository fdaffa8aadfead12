"""Writes test/fixtures/onnx-import/: small PyTorch (1.13) models exported by torch.onnx.export, and their outputs.

Run from the repository root with Debian's PyTorch (no `onnx` Python package is needed: torch writes the protobuf itself):

    /usr/bin/python3 scripts/make-onnx-import-fixtures.py

Each model is built with a fixed seed, exported to <name>.onnx with a dynamic batch axis, and run on a fixed input;
expected.json holds, per model, the opset, the input (NCHW / [N, T] ids / [N, F] as PyTorch takes it, flattened, with its
shape) and PyTorch's output (flattened, with its shape), float32 values written with 9 significant digits (exact).
The cnn and misc outputs were written with Debian's reference BLAS; torch on OpenBLAS (libopenblas0-pthread) gives
them within 1e-7, so a re-run changes their last digits (the tests compare within 1e-5).

- cnn: MNIST-shaped, Conv(1→8, 3×3, pad 1)-ReLU-MaxPool 2, Conv(8→16, 3×3)-ReLU-MaxPool 2, Flatten, Linear-ReLU-Linear (opset 13).
- mlp: Linear-Tanh-Linear-Sigmoid-Linear-Softmax on 24 features (opset 15).
- misc: stride-2 'same'-padded conv, AvgPool (padding not counted), GELU, a residual Add, LayerNorm, Dropout (opset 17).
- lstm: Embedding, LSTM (batch first), Linear on the last hidden state (opset 14).
- gru: Embedding, bidirectional GRU (batch first), Linear on every step's output (opset 16).
- gpt: a one-block pre-norm causal transformer with attention written out (Linear q, k, v; heads by view and transpose;
  Q·Kᵀ / √D plus a causal bias of −inf; softmax; ·V; heads merged; Linear out), learned positions sliced from a longer
  table, a GELU feed-forward, layer norms written out (opset 14).
"""
import json
import math
import os

import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'onnx-import')


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3)
        self.fc1 = nn.Linear(16 * 6 * 6, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc2(torch.relu(self.fc1(torch.flatten(x, 1))))


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(24, 16), nn.Tanh(), nn.Linear(16, 12), nn.Sigmoid(), nn.Linear(12, 5), nn.Softmax(dim=-1))

    def forward(self, x):
        return self.net(x)


class Misc(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, stride=1, padding=1)
        self.down = nn.Conv2d(6, 6, 2, stride=2)
        self.pool = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        self.norm = nn.LayerNorm(24)
        self.fc = nn.Linear(6 * 4 * 4, 24)
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(24, 3)

    def forward(self, x):
        h = nn.functional.gelu(self.conv(x))
        h = self.down(h)
        h = h + self.pool(h)
        h = self.drop(self.norm(self.fc(h.reshape(h.shape[0], -1))))
        return self.out(torch.sigmoid(h))


class Lstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(20, 6)
        self.lstm = nn.LSTM(6, 8, batch_first=True)
        self.fc = nn.Linear(8, 4)

    def forward(self, ids):
        _, (h, _) = self.lstm(self.embedding(ids))
        return self.fc(h[-1])


class Gru(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(20, 5)
        self.gru = nn.GRU(5, 6, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(12, 3)

    def forward(self, ids):
        y, _ = self.gru(self.embedding(ids))
        return self.fc(y)


class Gpt(nn.Module):
    def __init__(self, vocab=16, length=6, dim=8, heads=2):
        super().__init__()
        self.heads = heads
        self.embedding = nn.Embedding(vocab, dim)
        self.positions = nn.Parameter(torch.randn(length + 2, dim) * 0.5)
        self.norm1 = nn.LayerNorm(dim)
        self.q, self.k, self.v, self.o = (nn.Linear(dim, dim) for _ in range(4))
        self.norm2 = nn.LayerNorm(dim)
        self.ff1 = nn.Linear(dim, 4 * dim)
        self.ff2 = nn.Linear(4 * dim, dim)
        self.norm3 = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab)
        self.register_buffer('causal', torch.triu(torch.full((length, length), float('-inf')), 1))

    def forward(self, ids):
        n, t = ids.shape
        x = self.embedding(ids) + self.positions[:t]
        h = self.norm1(x)
        d = x.shape[-1] // self.heads

        def split(y):
            return y.view(n, t, self.heads, d).transpose(1, 2)

        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        a = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d) + self.causal[:t, :t], dim=-1) @ v
        x = x + self.o(a.transpose(1, 2).reshape(n, t, -1))
        x = x + self.ff2(nn.functional.gelu(self.ff1(self.norm2(x))))
        return self.head(self.norm3(x))


def r9(v):
    return float('%.9g' % v)


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    g = torch.Generator().manual_seed(7)
    cases = [
        ('cnn', Cnn, 13, torch.rand(3, 1, 28, 28, generator=g)),
        ('mlp', Mlp, 15, torch.randn(4, 24, generator=g)),
        ('misc', Misc, 17, torch.randn(2, 3, 8, 8, generator=g)),
        ('lstm', Lstm, 14, torch.randint(0, 20, (3, 7), generator=g)),
        ('gru', Gru, 16, torch.randint(0, 20, (2, 5), generator=g)),
        ('gpt', Gpt, 14, torch.randint(0, 16, (3, 6), generator=g)),
    ]
    for i, (name, cls, opset, x) in enumerate(cases):
        torch.manual_seed(100 + i)
        m = cls().eval()
        with torch.no_grad():
            y = m(x)
        path = os.path.join(OUT, f'{name}.onnx')
        torch.onnx.export(m, (x,), path, opset_version=opset, input_names=['input'], output_names=['output'],
                          dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}})
        expected[name] = {
            'opset': opset,
            'input': {'shape': list(x.shape), 'dtype': 'int64' if x.dtype == torch.int64 else 'float32',
                      'data': [int(v) for v in x.flatten().tolist()] if x.dtype == torch.int64 else [r9(v) for v in x.flatten().tolist()]},
            'output': {'shape': list(y.shape), 'data': [r9(v) for v in y.flatten().tolist()]},
        }
        print(f'{name}: opset {opset}, {os.path.getsize(path)} bytes, output {list(y.shape)}')
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(expected, f, separators=(',', ':'))
        f.write('\n')


if __name__ == '__main__':
    main()
