// weightshare/io: the checkpoint container (platform-neutral; file helpers live in ./files.js, Node only).
export * from './checkpoint.js';
export * from './model-file.js';
export * from './limits.js';
export * from './stored.js';
