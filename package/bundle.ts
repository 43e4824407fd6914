// esbuild, one way for every bundle: the packaged CLIs (package/build.ts), the lab-only hooked agent,
// and the dev build's OpenStack CLI (`npm run bundle`). ESM output needs a `require` for the CommonJS
// dependencies (fastify, pino, ...); pino's pretty transport runs in a worker thread, so its worker
// and pino-pretty become files of their own beside the bundle (`__bundlerPathsOverrides`, the hook
// pino and thread-stream read for bundlers).
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { createRequire } from 'node:module';
import path from 'node:path';
import { NwError } from '../host/errors.js';

const REQUIRE_BANNER = "import{createRequire as __nwCreateRequire}from'node:module';const require=__nwCreateRequire(import.meta.url);";
/** beside the bundle: lib/pino/*.mjs */
const PINO_FILES = { 'thread-stream-worker': 'thread-stream/lib/worker.js', 'pino-pretty': 'pino-pretty' } as const;
const pinoBanner = (dir: string) =>
  `globalThis.__bundlerPathsOverrides={${Object.keys(PINO_FILES)
    .map((k) => `'${k}':new URL('./${dir}/${k}.mjs',import.meta.url).pathname`)
    .join(',')}};`;

export interface BundleOptions {
  entry: string;
  outfile: string;
  /** left to node_modules beside the bundle (native modules) */
  external?: string[];
  /** baked into host/build-info.ts */
  commit?: string;
  /** emit pino's worker files beside the bundle (a daemon that may log to a TTY) */
  pinoWorkers?: boolean;
  target?: string;
}

/**
 * fastify's lib/server.js requires node:http2 at load, for the `http2: true` option no nodewright
 * server sets: on Node 24 that is ~4 MiB of idle RSS (bench P1). Bundled, it gets node:http2 on first use.
 */
const lazyHttp2: Plugin = {
  name: 'nodewright-lazy-http2',
  setup(b) {
    b.onResolve({ filter: /^(node:)?http2$/ }, (a) => (/fastify[\\/]lib[\\/]server\.js$/.test(a.importer) ? { path: 'http2', namespace: 'nw-lazy-builtin' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'nw-lazy-builtin' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, k) => process.getBuiltinModule('node:http2')[k] });",
      loader: 'js',
    }));
  },
};

const common = (o: { target?: string }): BuildOptions => ({
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: o.target ?? 'node20',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  banner: { js: REQUIRE_BANNER },
  plugins: [lazyHttp2],
});

async function run(opts: BuildOptions, what: string): Promise<void> {
  try {
    await build(opts);
  } catch (e) {
    throw new NwError('NW_PKG_BUILD', `esbuild failed for ${what}: ${(e as Error).message.split('\n').slice(0, 8).join('\n')}`);
  }
}

export async function bundle(o: BundleOptions): Promise<void> {
  const opts = common(o);
  if (o.pinoWorkers) {
    opts.banner = { js: REQUIRE_BANNER + pinoBanner('pino') };
    const resolve = createRequire(import.meta.url).resolve;
    for (const [name, mod] of Object.entries(PINO_FILES)) {
      await run({ ...common(o), entryPoints: [resolve(mod)], outfile: path.join(path.dirname(o.outfile), 'pino', `${name}.mjs`) }, mod);
    }
  }
  await run(
    {
      ...opts,
      entryPoints: [o.entry],
      outfile: o.outfile,
      external: o.external ?? [],
      define: o.commit ? { NW_BUILD_COMMIT: JSON.stringify(o.commit) } : {},
    },
    o.entry,
  );
}
