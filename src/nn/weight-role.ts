// What each weight of a layer is for (its role), and which roles model transforms may share or compress.

/**
 * The role of a weight, in Keras' words: `kernel` (Dense, Conv2D, LocallyConnected2D), `recurrentKernel`
 * (SimpleRNN, LSTM, GRU), `embedding` (Embedding's `embeddings`), `bias`, `gamma` / `beta` (a normalisation's
 * scale and offset), `other` (anything else a layer keeps, e.g. moving statistics).
 */
export type WeightRole = 'kernel' | 'recurrentKernel' | 'embedding' | 'bias' | 'gamma' | 'beta' | 'other';

/** The matrix-like roles that `--sharing`, clustering and pruning act on by default; biases and norm scales stay plain. */
export const SHAREABLE_ROLES: readonly WeightRole[] = ['kernel', 'recurrentKernel', 'embedding'];

/** True for a role in {@link SHAREABLE_ROLES}. */
export function isShareable(role: WeightRole): boolean {
  return SHAREABLE_ROLES.includes(role);
}
