// Rendering plots: a Vega-Lite spec to SVG (vega-lite compiles, vega renders headless, no browser) and SVG to PNG (resvg); the packages are optional peers loaded on first use.
import type * as VegaModule from 'vega';
import type * as VegaLiteModule from 'vega-lite';
import type * as ResvgModule from '@resvg/resvg-js';

/** The optional peer dependencies `report` needs, with the versions it is tested with. */
export const PLOTTING_PACKAGES = { vega: '^6.4.0', 'vega-lite': '^6.4.0', '@resvg/resvg-js': '^2.6.2' } as const;

/** The command that installs them (the core install stays light). */
export const PLOTTING_INSTALL = `npm install ${Object.entries(PLOTTING_PACKAGES).map(([p, v]) => `${p}@${v}`).join(' ')}`;

/** A plotting package that is missing or fails to load; the message is one line with the `npm install …` command that fixes it. */
export class PlottingUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlottingUnavailableError';
  }
}

interface Plotting {
  vega: typeof VegaModule;
  vegaLite: typeof VegaLiteModule;
  Resvg: typeof ResvgModule.Resvg;
}

let loaded: Promise<Plotting> | undefined;

/** True when `e` says that package `name` itself (not one of its dependencies) cannot be found. */
function notFound(e: unknown, name: string): boolean {
  const err = e as NodeJS.ErrnoException;
  return (err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND') && err.message.includes(`'${name}'`);
}

/**
 * @internal (its type names the optional packages, which a consumer's type-check may not have)
 * Loads vega, vega-lite and @resvg/resvg-js the first time (later calls reuse them). Missing packages give one
 * PlottingUnavailableError naming them and the `npm install` command for exactly those; a package that is present but
 * fails to load (e.g. resvg without its platform binary) gives its own error and the command to reinstall it.
 */
export function loadPlotting(): Promise<Plotting> {
  loaded ??= (async () => {
    const names = Object.keys(PLOTTING_PACKAGES) as (keyof typeof PLOTTING_PACKAGES)[];
    const results = await Promise.allSettled([import('vega'), import('vega-lite'), import('@resvg/resvg-js')]);
    const missing = names.filter((n, i) => results[i].status === 'rejected' && notFound((results[i] as PromiseRejectedResult).reason, n));
    const install = (ps: readonly string[]): string => `npm install ${ps.map((p) => `${p}@${PLOTTING_PACKAGES[p as keyof typeof PLOTTING_PACKAGES]}`).join(' ')}`;
    if (missing.length) {
      throw new PlottingUnavailableError(`plots need the optional package${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not installed: run ${install(missing)}`);
    }
    const failed = results.findIndex((r) => r.status === 'rejected');
    if (failed >= 0) {
      const why = ((results[failed] as PromiseRejectedResult).reason as Error).message.split('\n')[0];
      throw new PlottingUnavailableError(`the optional package ${names[failed]} is installed but does not load (${why}); reinstall it with optional dependencies: ${install([names[failed]])}`);
    }
    const [vega, vegaLite, resvg] = results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [typeof VegaModule, typeof VegaLiteModule, typeof ResvgModule & { default?: typeof ResvgModule }];
    return { vega, vegaLite, Resvg: resvg.Resvg ?? resvg.default!.Resvg };
  })();
  // A failed load is retried on the next call (the user may have installed the packages since).
  loaded.catch(() => (loaded = undefined));
  return loaded;
}

/** A rendered plot: the SVG text and the PNG bytes with their pixel size, and what vega-lite and vega warned about. */
export interface RenderedPlot {
  svg: string;
  png: Uint8Array;
  width: number;
  height: number;
  warnings: string[];
}

/**
 * Vega-Lite's warning for independent scales in a faceted layer (per-layer sizes: one y scale of layer names per run): it
 * cannot prove that the layers read one data source, which they do (one inline table).
 */
const BENIGN = /^Detected faceted independent scales that union domain of the same fields from different source/;

/**
 * Renders a Vega-Lite spec (a plain JSON object) headless: vega-lite compiles it to Vega, vega's View draws it to SVG,
 * resvg rasterises that SVG at `scale` × its size (2: sharp on high-density screens) with the system's fonts. Warnings are
 * returned, not printed.
 */
export async function renderSpec(spec: object, scale = 2): Promise<RenderedPlot> {
  const { vega, vegaLite, Resvg } = await loadPlotting();
  const warnings: string[] = [];
  const logger = vega.logger(vega.Warn, undefined, (_method, _level, args) => {
    const text = args.map(String).join(' ');
    if (!BENIGN.test(text)) warnings.push(text);
  });
  const compiled = vegaLite.compile(spec as VegaLiteModule.TopLevelSpec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger, logLevel: vega.Warn });
  try {
    const svg = await view.toSVG();
    const image = new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, font: { loadSystemFonts: true } }).render();
    return { svg, png: new Uint8Array(image.asPng()), width: image.width, height: image.height, warnings };
  } finally {
    view.finalize();
  }
}
