#!/usr/bin/env bash
# The transformer experiments of RESULTS.md (issue 11): run from the repository root after `npm run build`.
#   scripts/gpt-experiments.sh sharing     gpt (4 layers, 4 heads, dim 128, context 64) on sotu characters with its blocks
#                                          shared across depth: none | attention | ffn | all (ALBERT's ablation), 3 seeds
#   scripts/gpt-experiments.sh factorized  word-gpt (vocabulary 5,000, tied) with a [V, 128] table vs ALBERT's factorised [V, 32], 3 seeds
# Every run trains the same number of steps on the same windows (equal training compute: sharing changes the
# parameters, not the arithmetic) and appends the CLI's --json summary as one line to /tmp/ws-data/gpt-<experiment>.jsonl.
# THREADS (default 1) sets the threads per run; run the two experiments side by side on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=/tmp/ws-data
mkdir -p "$OUT"
SEEDS=${SEEDS:-"0 1 2"}
THREADS=${THREADS:-1}
CLI="node dist/src/cli/main.js"
COMMON="--epochs 1 --batch-size 32 --lr 2e-3 --lr-schedule cosine --warmup-steps 25 --threads $THREADS"

case "${1:-}" in
  sharing)
    # 8,000 windows of 64 characters (512 k characters, 6 % of the training split), 250 updates; validation and
    # test on the first 2,000 windows (128 k characters) of their splits.
    for s in $SEEDS; do
      for share in none attention ffn all; do
        $CLI train --model gpt --share-layers "$share" --limit 8000 --test-limit 2000 --seed "$s" $COMMON \
          --out "$OUT/gpt-$share-$s.wsm" --json | tr -d '\n' >> "$OUT/gpt-sharing.jsonl"
        echo >> "$OUT/gpt-sharing.jsonl"
      done
    done ;;
  factorized)
    # Words (vocabulary 5,000), context 32, 4,000 windows (128 k words), 125 updates; validation and test on the
    # first 1,500 windows (48 k words); the output projection tied to the table in both.
    for s in $SEEDS; do
      for e in "" 32; do
        $CLI train --model word-gpt --tied ${e:+--factorized-embedding $e} --max-vocab 5000 --context 32 --limit 4000 --test-limit 1500 --seed "$s" $COMMON \
          --out "$OUT/word-gpt-e${e:-128}-$s.wsm" --json | tr -d '\n' >> "$OUT/gpt-factorized.jsonl"
        echo >> "$OUT/gpt-factorized.jsonl"
      done
    done ;;
  *) echo "usage: scripts/gpt-experiments.sh sharing|factorized" >&2; exit 2 ;;
esac
