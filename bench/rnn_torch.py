#!/usr/bin/env python3
"""LSTM language-model benchmark peer (run by bench/rnn.ts): the same model in PyTorch; prints one JSON line.

Usage: python3 bench/rnn_torch.py CONFIG.json (written by `node dist/bench/rnn.js`; see LmWorkerConfig in
bench/lm-bench.ts). The model: Embedding(V, E) -> LSTM(E, H) x layers (batch-first) -> Linear(H, V); the training
loop, data and thread settings are bench/lm_peer.py's.
"""
import lm_peer


def make_model(cfg, torch):
    from torch import nn

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(cfg["vocab"], cfg["embed"])
            self.rnn = nn.LSTM(cfg["embed"], cfg["hidden"], cfg["layers"], batch_first=True)
            self.out = nn.Linear(cfg["hidden"], cfg["vocab"])

        def forward(self, x):
            h, _ = self.rnn(self.emb(x))
            return self.out(h)

    return LM()


if __name__ == "__main__":
    lm_peer.run(make_model, lambda torch: "nn.LSTM (eager, CPU)")
