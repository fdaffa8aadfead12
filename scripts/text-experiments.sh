#!/usr/bin/env bash
# The text experiments of RESULTS.md (issue 10): run from the repository root after `npm run build`.
#   scripts/text-experiments.sh charlm      char-lstm on sotu vs the same recipe in PyTorch (scripts/reference-lm.py), 3 seeds
#   scripts/text-experiments.sh tied        word-lstm tied vs untied on sotu, 3 seeds
#   scripts/text-experiments.sh tied10      the same, 10 epochs without dropout, 3 seeds
#   scripts/text-experiments.sh embeddings  word-lstm with hashed / low-rank / codebook embedding tables at 1/8 and 1/32, 3 seeds
# Each run appends one JSON line (the CLI's --json summary, or reference-lm.py's record) to /tmp/ws-data/<experiment>.jsonl.
# OUT=DIR writes them (and the models) elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/ws-data}
mkdir -p "$OUT"
SEEDS=${SEEDS:-"0 1 2"}
CLI="node dist/src/cli/main.js"
PY=${PYTHON:-/usr/bin/python3}

# tied_runs NAME PREFIX EPOCHS: the word-lstm untied and --tied for each seed, into $OUT/NAME.jsonl and $OUT/PREFIX[-tied]-S.wsm.
tied_runs() {
  for s in $SEEDS; do
    for t in "" "--tied"; do
      $CLI train --model word-lstm $t --embed 128 --hidden 128 --max-vocab 5000 --bptt 32 --limit 4000 --test-limit 1500 --epochs "$3" --seed "$s" \
        --out "$OUT/$2${t:+-tied}-$s.wsm" --json | tr -d '\n' >> "$OUT/$1.jsonl"
      echo >> "$OUT/$1.jsonl"
    done
  done
}

case "${1:-}" in
  charlm)
    # 16,000 windows of 64 characters (1.0 M characters, 12 % of the training split), one epoch, Adam 1e-3, clipnorm 1.
    node scripts/export-dataset.mjs sotu-char "$OUT/sotu-char"
    for s in $SEEDS; do
      $CLI train --model char-lstm --epochs 1 --limit 16000 --seed "$s" --out "$OUT/char-lstm-$s.wsm" --json | tr -d '\n' >> "$OUT/charlm-ours.jsonl"
      echo >> "$OUT/charlm-ours.jsonl"
      # PyTorch at its best setting for this LSTM (bench:rnn grid): 1 intra-op thread, OpenBLAS 2 threads.
      OPENBLAS_NUM_THREADS=2 $PY scripts/reference-lm.py --data "$OUT/sotu-char" --epochs 1 --limit 16000 --seeds "$s" --threads 1 --log "$OUT/charlm-torch.jsonl"
    done ;;
  tied)
    # Words (vocabulary 5,000), embed = hidden = 128, windows of 32, 4,000 windows (128 k words), 1 epoch; validation
    # and test on the first 1,500 windows (48 k words) of their splits.
    tied_runs tied word-lstm 1 ;;
  tied10)
    # The tied recipe trained longer, without dropout, at a constant learning rate: 10 epochs over the same 4,000
    # windows (128 k words), where the untied output projection (640,000 more weights) starts to overfit.
    tied_runs tied10 word-lstm-e10 10 ;;
  embeddings)
    # The same word-lstm (untied), its embedding table [5000, 128] (640,000 weights) stored as a shared map with 1/8 or 1/32 of them.
    for s in $SEEDS; do
      for spec in hashed:1/8 hashed:1/32 lowRank:16 lowRank:4 codebook:16 codebook:2; do
        $CLI train --model word-lstm --embed 128 --hidden 128 --max-vocab 5000 --bptt 32 --limit 4000 --test-limit 1500 --epochs 1 --seed "$s" \
          --sharing "embedding=$spec" --out "$OUT/word-lstm-emb-${spec//[:\/]/-}-$s.wsm" --json | tr -d '\n' >> "$OUT/embeddings.jsonl"
        echo >> "$OUT/embeddings.jsonl"
      done
    done ;;
  *) echo "usage: scripts/text-experiments.sh charlm|tied|tied10|embeddings" >&2; exit 2 ;;
esac
