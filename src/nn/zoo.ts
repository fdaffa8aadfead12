// Named architectures for MNIST-shaped data (28×28×1, 10 classes): the reference CNN, its unshared twin, MLPs and LeNets.
import { checkOptions } from '../core/errors.js';
import { layers } from './layers/index.js';
import type { Layer } from './layer.js';
import { sequential, type Sequential } from './model.js';

/** Names accepted by {@link createModel} and `weightshare train --model`. */
export const MODEL_NAMES = ['seed-cnn', 'seed-cnn-local', 'mlp', 'lenet-300-100', 'lenet5'] as const;
/** One of {@link MODEL_NAMES}. */
export type ModelName = (typeof MODEL_NAMES)[number];

const INPUT = [28, 28, 1];

/** What each named model is, for help texts. */
export const MODEL_DESCRIPTIONS: Record<ModelName, string> = {
  'seed-cnn': 'the Keras MNIST CNN: conv 32 3×3 relu, max-pool 2, conv 64 3×3 relu, max-pool 2, dense 128 relu, dense 10 softmax',
  'seed-cnn-local': 'seed-cnn with LocallyConnected2D (no sharing across positions) in place of each Conv2D',
  mlp: 'MLP 784-200-200-10 (relu), the network of the intrinsic-dimension paper',
  'lenet-300-100': 'LeNet-300-100: MLP 784-300-100-10 (relu)',
  lenet5: 'LeNet-5 (Caffe version, as in Deep Compression): conv 20 5×5, max-pool, conv 50 5×5, max-pool, dense 500 relu, dense 10',
};

/**
 * Builds a named model (unbuilt; `build(seed)` or `fit` creates the weights). Besides {@link MODEL_NAMES},
 * `mlp:H1,H2,…` is an MLP with those hidden sizes (relu), e.g. `mlp:1000` for HashedNets' 784-1000-10.
 * Throws listing the names when unknown.
 */
export function createModel(name: string, o: { inputShape?: number[]; classes?: number } = {}): Sequential {
  checkOptions('createModel', o, ['inputShape', 'classes']);
  const custom = /^mlp:(\d+(?:,\d+)*)$/.exec(name);
  const inputShape = o.inputShape ?? INPUT;
  const classes = o.classes ?? 10;
  const head = (hidden: number[]): Layer[] => [
    ...hidden.map((units) => layers.dense({ units, activation: 'relu' })),
    layers.dense({ units: classes, activation: 'softmax' }),
  ];
  let list: Layer[];
  if (custom) {
    const sizes = custom[1].split(',').map(Number);
    if (sizes.some((s) => s < 1)) throw new RangeError(`model '${name}': hidden sizes must be ≥ 1`);
    return sequential([layers.flatten(), ...head(sizes)], { name, inputShape });
  }
  switch (name as ModelName) {
    case 'seed-cnn':
    case 'seed-cnn-local': {
      const local = name === 'seed-cnn-local';
      const conv = (filters: number): Layer => (local
        ? layers.locallyConnected2d({ filters, kernelSize: 3, activation: 'relu' })
        : layers.conv2d({ filters, kernelSize: 3, activation: 'relu' }));
      list = [conv(32), layers.maxPooling2d({ poolSize: 2 }), conv(64), layers.maxPooling2d({ poolSize: 2 }), layers.flatten(), ...head([128])];
      break;
    }
    case 'mlp':
      list = [layers.flatten(), ...head([200, 200])];
      break;
    case 'lenet-300-100':
      list = [layers.flatten(), ...head([300, 100])];
      break;
    case 'lenet5':
      list = [
        layers.conv2d({ filters: 20, kernelSize: 5 }), layers.maxPooling2d({ poolSize: 2 }),
        layers.conv2d({ filters: 50, kernelSize: 5 }), layers.maxPooling2d({ poolSize: 2 }),
        layers.flatten(), ...head([500]),
      ];
      break;
    default:
      throw new RangeError(`unknown model '${name}' (expected one of ${MODEL_NAMES.join(', ')}, or mlp:H1,H2,… for hidden sizes)`);
  }
  return sequential(list, { name, inputShape });
}
