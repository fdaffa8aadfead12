// A model file's bytes per weight, read from the file (Node: it reads the file; the browser-safe part is stored.ts).
import { loadCheckpoint } from './files.js';
import { modelFromCheckpoint } from './model-file.js';
import { storedPerWeight, type StoredWeight } from './stored.js';

/** {@link storedPerWeight} of the model file at `path` (read lazily: the coded tensors are not decoded); the model is disposed. */
export function storedSizes(path: string): { fileBytes: number; weights: StoredWeight[] } {
  const contents = loadCheckpoint(path, { lazy: true });
  const { model } = modelFromCheckpoint(contents, path);
  try {
    return { fileBytes: contents.stored!.fileBytes, weights: storedPerWeight(model, contents.stored!.tensorBytes) };
  } finally {
    model.dispose();
  }
}
