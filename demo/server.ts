// The demo's static server: a folder over HTTP with the cross-origin-isolation headers (COOP/COEP) that worker threads need.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json', '.map': 'application/json',
  '.gz': 'application/gzip', '.png': 'image/png',
};

/** The headers that make a page cross-origin isolated (`crossOriginIsolated`: shared memory for Web Workers). */
export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } as const;

/**
 * Answers a GET for `path` (URL-encoded, below `root`) with the file, its MIME type, no caching, and the isolation
 * headers when `isolated`; a folder gives its index.html; anything else (outside `root`, missing) is a 404.
 */
export function sendFile(root: string, path: string, res: ServerResponse, isolated: boolean): void {
  const top = root.endsWith(sep) ? root : root + sep;
  let file: string;
  try {
    file = normalize(join(top, decodeURIComponent(path)));
  } catch {
    file = '';
  }
  if (file.endsWith(sep)) file = join(file, 'index.html');
  if (!file.startsWith(top) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
    return;
  }
  const headers: Record<string, string> = { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' };
  if (isolated) Object.assign(headers, ISOLATION_HEADERS);
  res.writeHead(200, headers).end(readFileSync(file));
}

/** Serves the folder `root` on `host`:`port` (0: any free port), cross-origin isolated unless `isolated` is false. */
export function serveDemo(root: string, o: { port?: number; host?: string; isolated?: boolean } = {}): Promise<Server> {
  const isolated = o.isolated ?? true;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    sendFile(root, new URL(req.url ?? '/', 'http://x').pathname, res, isolated);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8080, o.host ?? '127.0.0.1', () => resolve(server));
  });
}

/** The address a browser opens for a server started by {@link serveDemo}. */
export function demoUrl(server: Server): string {
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address === '0.0.0.0' ? 'localhost' : a.address;
  return `http://${host}:${a.port}/`;
}
