#!/usr/bin/env python3
"""GPT language-model benchmark peer (run by bench/transformer.ts): the same model in PyTorch; prints one JSON line.

Usage: python3 bench/transformer_torch.py CONFIG.json (written by `node dist/bench/transformer.js`; see LmWorkerConfig
in bench/lm-bench.ts). The model is scripts/reference-gpt.py's GPT (createGptModel's architecture and initialisation,
attention written out as matmuls, softmax and a causal mask: torch 1.13 has no fused attention); the training loop,
data and thread settings are bench/lm_peer.py's.
"""
import importlib.util
import os

import lm_peer


def make_model(cfg, torch):
    spec = importlib.util.spec_from_file_location('reference_gpt', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'scripts', 'reference-gpt.py'))
    gpt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpt)
    return gpt.GPT(cfg["vocab"], cfg["bptt"], cfg["dim"], cfg["heads"], cfg["layers"], cfg["ffDim"], 0.0, cfg["shareLayers"])


if __name__ == "__main__":
    lm_peer.run(make_model, lambda torch: "scripts/reference-gpt.py GPT (eager, CPU)")
