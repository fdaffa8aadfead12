// `npm run demo`: builds the demo page into dist/demo-site/ and serves it, cross-origin isolated, printing the URL.
import { parseArgs } from 'node:util';
import { buildDemo, DEFAULT_OUT } from './build.js';
import { demoUrl, serveDemo } from './server.js';

const HELP = `Usage: npm run demo -- [options]

Builds the demo (esbuild) into a folder of static files and serves it with the
cross-origin-isolation headers (COOP/COEP) that worker threads need.

Options:
  --out <dir>      Site folder (default: dist/demo-site)
  --port <n>       Port (default: 8080; 0: any free port)
  --host <name>    Interface to listen on (default: 127.0.0.1)
  --no-isolation   Serve without COOP/COEP (the page then runs on 1 thread)
  --build-only     Build, do not serve (host the folder anywhere)
  -h, --help       Show this help
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, 'no-isolation': { type: 'boolean' },
      'build-only': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer in [0, 65535], got ${values.port}`);
  const built = await buildDemo(values.out ?? DEFAULT_OUT);
  const bytes = built.files.reduce((s, f) => s + f.bytes, 0);
  console.log(`Built ${built.out}/: ${built.files.length} files, ${(bytes / 1024 / 1024).toFixed(2)} MiB, in ${(built.ms / 1000).toFixed(1)} s`);
  if (values['build-only']) return;
  const isolated = !values['no-isolation'];
  const server = await serveDemo(built.out, { port, host: values.host, isolated });
  console.log(`Serving the demo at ${demoUrl(server)} (${isolated ? 'cross-origin isolated: worker threads' : 'not cross-origin isolated: 1 thread'}); Ctrl-C stops`);
}

main().catch((e: unknown) => {
  const err = e as NodeJS.ErrnoException;
  console.error(`demo: ${err.code === 'EADDRINUSE' ? `${err.message}: pick another port with --port` : err.message ?? e}`);
  process.exit(1);
});
