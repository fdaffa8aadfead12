// Engine state: the current backend, thread count and the scopes that free tensors deterministically.
import type { Backend } from '../backend/backend.js';
import { RefBackend } from '../backend/ref/ref.js';
import { platform } from '../backend/wasm/platform.js';
import { createWasmBackend, forgetInitialisedWasmBackend, initialisedWasmBackend, WasmBackend } from '../backend/wasm/wasm.js';
import type { Tensor } from './tensor.js';

let current: Backend | undefined;
let threads: number | undefined;
const made = new Map<string, Backend>();
const scopes: Set<Tensor>[] = [];
let live = 0;

/** The backend new tensors are created on: `wasm` unless `setBackend` or `WEIGHTSHARE_BACKEND=ref` says otherwise. */
export function getBackend(): Backend {
  if (!current) {
    const name = platform.env('WEIGHTSHARE_BACKEND') ?? 'wasm';
    current = makeBackend(name);
  }
  return current;
}

/** The backend of that name, created once and reused; for `wasm`, the one `initWasmBackend` made if any. */
function makeBackend(name: string): Backend {
  const init = name === 'wasm' ? initialisedWasmBackend() : undefined;
  if (init && (threads === undefined || init.threads === threads)) return init;
  let b = made.get(name);
  if (!b) {
    if (name === 'ref') b = new RefBackend();
    else if (name === 'wasm') {
      if (!platform.blocking) throw new Error("weightshare: in a browser, `await initWasmBackend()` before using the 'wasm' backend (it starts asynchronously)");
      b = createWasmBackend({ threads });
    }
    else throw new Error(`weightshare: unknown backend '${name}' (expected 'wasm' or 'ref')`);
    made.set(name, b);
  }
  return b;
}

/** Selects the backend for new tensors: 'wasm', 'ref' or a Backend object. Existing tensors stay where they are. */
export function setBackend(b: 'wasm' | 'ref' | Backend): Backend {
  current = typeof b === 'string' ? makeBackend(b) : b;
  return current;
}

/**
 * Sets the number of threads of the wasm backend (default: `WEIGHTSHARE_THREADS` or the number of cores).
 * Call it before creating tensors, or when none are alive: it starts a fresh wasm backend.
 */
export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setThreads: thread count must be a positive integer, got ${n}`);
  threads = n;
  if (current instanceof WasmBackend && current.threads !== n) {
    if (live > 0) throw new Error(`setThreads: ${live} tensors are alive on the current wasm backend; dispose them first`);
    if (!platform.blocking) throw new Error(`setThreads: in a browser, \`await initWasmBackend({ threads: ${n} })\` instead`);
    current.dispose();
    if (current === initialisedWasmBackend()) forgetInitialisedWasmBackend();
    made.delete('wasm');
    current = makeBackend('wasm');
  }
}

/** Live tensor count and backend bytes in use (for leak checks). */
export function memory(): { tensors: number; bytes: number } {
  return { tensors: live, bytes: getBackend().bytesInUse() };
}

/** Called by Tensor's constructor: counts it and records it in the innermost scope. */
export function track(t: Tensor): void {
  live++;
  if (scopes.length > 0) scopes[scopes.length - 1].add(t);
}

/** Called by Tensor.dispose. */
export function untrack(): void {
  live--;
}

type Kept = Tensor | readonly Kept[] | { readonly [k: string]: Kept } | void | number | string | boolean | null | undefined;

function collect(v: unknown, out: Set<Tensor>): void {
  if (v === null || typeof v !== 'object') return;
  if ((v as { isTensor?: boolean }).isTensor === true) out.add(v as Tensor);
  else if (Array.isArray(v)) for (const x of v) collect(x, out);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) collect(x, out);
}

/**
 * Runs `fn` and disposes every tensor created inside it except those it returns (tensors, or arrays and
 * plain objects of them) and those marked with {@link keep}. Returned tensors move to the enclosing scope.
 * When `fn` throws, it returns nothing: every tensor it created but the kept ones is disposed, and the error rethrown.
 */
export function tidy<T extends Kept>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    release(scope, undefined);
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    release(scope, undefined);
    throw new Error('tidy: the function must be synchronous');
  }
  release(scope, result);
  return result;
}

/** Ends a tidy scope: the tensors in `result` and the kept ones move to the enclosing scope, the others are disposed. */
function release(scope: Set<Tensor>, result: unknown): void {
  const keepSet = new Set<Tensor>();
  collect(result, keepSet);
  const parent = scopes.length > 0 ? scopes[scopes.length - 1] : undefined;
  for (const t of scope) {
    if (keepSet.has(t) || t.kept) parent?.add(t);
    else t.dispose();
  }
}

/** Exempts a tensor from disposal by the enclosing tidy scopes (dispose it yourself). */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  return t;
}
