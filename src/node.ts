// weightshare/node: the Node-only parts — datasets and files (IDX, PNG, text corpora), model files on disk, the CLI entry.
export * from './data/index.js';
export { writeFileAtomic, saveCheckpoint, loadCheckpoint, saveModel, loadModel, modelCheckpoint } from './io/files.js';
export { main as runCli } from './cli/main.js';
