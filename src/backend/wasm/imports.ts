// The import object the kernel module is instantiated with (memory plus the runtime hooks asc may emit).

/** Builds imports for the kernel module: the shared memory, and a throwing stub for any other function import. */
export function kernelImports(module: WebAssembly.Module, memory: WebAssembly.Memory): WebAssembly.Imports {
  const env: Record<string, WebAssembly.ImportValue> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind === 'memory') env[imp.name] = memory;
    else if (imp.kind === 'function') {
      env[imp.name] = (...a: unknown[]) => {
        throw new Error(`weightshare wasm kernel called the host import ${imp.module}.${imp.name}(${a.join(', ')})`);
      };
    }
  }
  return { env };
}
