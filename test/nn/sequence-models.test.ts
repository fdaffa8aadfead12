// Padded token ids through Embedding(maskZero) → Bidirectional(SimpleRNN | LSTM | GRU) and → two stacked LSTM / GRU
// layers: outputs and gradients (table, every weight, initial states) against PyTorch's packed sequences
// (scripts/make-sequence-model-fixtures.py), every merge mode, with and without returnSequences, on both backends.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memory, setBackend, tidy } from '../../src/core/engine.js';
import { add, mul, sum } from '../../src/core/ops/index.js';
import { valueAndGrads } from '../../src/core/tape.js';
import { input, layers, type MergeMode, type Model, model, type SymbolicTensor } from '../../src/nn/index.js';
import { assertMatches, type FixtureTensor, fromFixture, loadFixture } from '../helpers/fixtures.js';

type Cell = 'SimpleRNN' | 'LSTM' | 'GRU';
interface SequenceCase {
  name: string;
  kind: 'bidirectional' | 'stacked';
  options: {
    inputDim: number; outputDim: number; cell: Cell; units: number; initialStates: boolean;
    mergeMode?: MergeMode; returnSequences?: boolean; returnState?: boolean;
  };
  inputs: { ids: FixtureTensor; weights: Record<string, FixtureTensor>; r: FixtureTensor[]; initialStates?: FixtureTensor[] };
  outputs: { outputs: FixtureTensor[]; dWeights: Record<string, FixtureTensor>; dInitialStates?: FixtureTensor[] };
}

const fixture = loadFixture<{ cases: SequenceCase[] }>('sequence_models');

function recurrent(cell: Cell, o: { units: number; name: string; returnSequences?: boolean; returnState?: boolean }) {
  return cell === 'LSTM' ? layers.lstm(o) : cell === 'GRU' ? layers.gru(o) : layers.simpleRNN(o);
}

/** ids [N, T] (0 = padding) → Embedding(maskZero) → the case's recurrent layers; initial states as further inputs. */
function build(c: SequenceCase): Model {
  const o = c.options;
  const [, steps] = c.inputs.ids.shape;
  const ids = input({ shape: [steps], dtype: 'int32', name: 'ids' });
  const x = layers.embedding({ inputDim: o.inputDim, outputDim: o.outputDim, maskZero: true, name: 'embedding' }).apply(ids);
  const perLayer = o.cell === 'LSTM' ? 2 : 1;
  const states = (c.inputs.initialStates ?? []).map((_, k) => input({ shape: [o.units], name: `state_${k}` }));
  let outputs: SymbolicTensor[];
  if (c.kind === 'bidirectional') {
    const bi = layers.bidirectional({
      layer: recurrent(o.cell, { units: o.units, name: o.cell === 'SimpleRNN' ? 'simple_rnn' : o.cell.toLowerCase(), returnSequences: o.returnSequences, returnState: o.returnState }),
      mergeMode: o.mergeMode, name: 'bidirectional',
    });
    outputs = bi.applyAll([x, ...states]);
  } else {
    const base = o.cell.toLowerCase();
    const [seq, ...s1] = recurrent(o.cell, { units: o.units, name: `${base}_1`, returnSequences: true, returnState: true }).applyAll([x, ...states.slice(0, perLayer)]);
    const [y2, ...s2] = recurrent(o.cell, { units: o.units, name: `${base}_2`, returnState: true }).applyAll([seq, ...states.slice(perLayer)]);
    outputs = [y2, ...s2, ...s1];
  }
  return model({ inputs: [ids, ...states], outputs }).build(0);
}

for (const backend of ['ref', 'wasm'] as const) {
  describe(`Embedding(maskZero) → Bidirectional / stacked recurrent layers vs PyTorch's packed sequences (${backend})`, () => {
    for (const c of fixture.cases) {
      test(c.name, () => {
        setBackend(backend);
        const before = memory().tensors;
        const m = build(c);
        const names = m.namedParameters().map((p) => p.name);
        assert.deepEqual([...names].sort(), Object.keys(c.inputs.weights).sort(), 'weight names');
        m.setWeights(Object.fromEntries(Object.entries(c.inputs.weights).map(([k, t]) => [k, Float32Array.from(t.data)])));
        tidy(() => {
          const init = (c.inputs.initialStates ?? []).map((s) => fromFixture(s));
          const xs = [fromFixture(c.inputs.ids, 'int32'), ...init];
          const params = m.namedParameters().map((p) => p.param.value);
          let outs: ReturnType<Model['callAll']> = [];
          const { grads } = valueAndGrads(() => {
            outs = m.callAll(xs);
            return outs.map((y, k) => sum(mul(y, fromFixture(c.inputs.r[k])))).reduce((a, b) => add(a, b));
          }, [...params, ...init]);
          assert.equal(outs.length, c.outputs.outputs.length, 'number of outputs');
          outs.forEach((y, k) => assertMatches(`output ${k}`, y, c.outputs.outputs[k], 1e-5, 2e-6));
          names.forEach((n, k) => assertMatches(`d ${n}`, grads[k], c.outputs.dWeights[n], 2e-5, 1e-5));
          (c.outputs.dInitialStates ?? []).forEach((d, k) => assertMatches(`d initial state ${k}`, grads[names.length + k], d, 2e-5, 1e-5));
        });
        m.dispose();
        assert.equal(memory().tensors, before, 'tensors leaked');
      });
    }
  });
}
