// esbuild, one way for every bundle: the packaged CLIs (package/build.ts), the lab-only hooked agent,
// and the dev build's OpenStack CLI (`npm run bundle`). ESM output needs a `require` for the CommonJS
// dependencies (fastify, pino, ...); pino's pretty transport runs in a worker thread, so its worker
// and pino-pretty become files of their own beside the bundle (`__bundlerPathsOverrides`, the hook
// pino and thread-stream read for bundlers). A snapshot bundle (the packaged agent) is CommonJS
// instead, shaped for a V8 startup snapshot (package/snapshot.ts).
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import { NwError } from '../host/errors.js';
import { snapshotBuiltins } from './snapshot.js';

const REQUIRE_BANNER = "import{createRequire as __nwCreateRequire}from'node:module';const require=__nwCreateRequire(import.meta.url);";
/** beside the bundle: lib/pino/*.mjs */
const PINO_FILES = { 'thread-stream-worker': 'thread-stream/lib/worker.js', 'pino-pretty': 'pino-pretty' } as const;
const pinoBanner = (dir: string) =>
  `globalThis.__bundlerPathsOverrides={${Object.keys(PINO_FILES)
    .map((k) => `'${k}':new URL('./${dir}/${k}.mjs',import.meta.url).pathname`)
    .join(',')}};`;
/**
 * The same for a snapshot bundle, whose load-time paths are the build machine's: a getter, from the
 * running node's place in the package (node/bin/node beside lib/).
 */
const LIB_DIR = "process.getBuiltinModule('node:path').resolve(process.execPath,'../../../lib')";
const pinoSnapshotBanner = (dir: string) =>
  `Object.defineProperty(globalThis,'__bundlerPathsOverrides',{configurable:true,get:()=>{const l=${LIB_DIR};return{${Object.keys(PINO_FILES)
    .map((k) => `'${k}':l+'/${dir}/${k}.mjs'`)
    .join(',')}}}});`;

export interface BundleOptions {
  entry: string;
  outfile: string;
  /** left to node_modules beside the bundle (native modules) */
  external?: string[];
  /** baked into host/build-info.ts */
  commit?: string;
  /** packages replaced by a stub that throws when required (ComponentSpec.omit) */
  omit?: string[];
  /** emit pino's worker files beside the bundle (a daemon that may log to a TTY) */
  pinoWorkers?: boolean;
  target?: string;
  /** CommonJS for a V8 startup snapshot of `node` (package/snapshot.ts) instead of ESM */
  snapshot?: { node: string; side?: SideBundle[] };
  /**
   * ESM code splitting: every dynamic import() becomes a chunk beside the bundle, <outfile
   * name>-<hash>.mjs, read only when a command imports it (package/layout.ts ComponentSpec.split).
   */
  split?: boolean;
}

/**
 * A module the snapshot leaves out (code a daemon never runs, e.g. join's X.509 stack): it goes to
 * <outfile>-<name>.cjs beside the bundle and loads on its first dynamic import.
 */
export interface SideBundle {
  /** the module's source, absolute */
  entry: string;
  name: string;
}

/**
 * Node built-ins, taken on first use instead of at load. ESM output hoists every `import … from
 * 'node:x'` of every bundled module to the top, so all of them load at start; and on Node 24 an ESM
 * import builds a facade that reads every export, getters too (node:http's WebSocket loads undici,
 * node:fs's promises, node:process's report …). As CommonJS shims they load when the importing module
 * is first evaluated, as process.getBuiltinModule() objects (no facade). fastify's lib/server.js also
 * requires node:http2 at load for the `http2: true` option no nodewright server sets: that one waits
 * for its first property read. Together ~5 MiB less idle RSS for the agent on Node 24 (bench P1).
 */
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const lazyBuiltins: Plugin = {
  name: 'nodewright-lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z_/0-9]+$/ }, (a) => {
      if (!BUILTINS.has(a.path)) return undefined;
      const name = a.path.replace(/^node:/, '');
      if (name === 'http2' && /fastify[\\/]lib[\\/]server\.js$/.test(a.importer)) return { path: name, namespace: 'nw-builtin-on-first-read' };
      return a.kind === 'import-statement' ? { path: name, namespace: 'nw-builtin' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'nw-builtin' }, (a) => ({ contents: `module.exports = process.getBuiltinModule('node:${a.path}');`, loader: 'js' }));
    b.onLoad({ filter: /.*/, namespace: 'nw-builtin-on-first-read' }, (a) => ({
      contents: `module.exports = new Proxy({}, { get: (_, k) => process.getBuiltinModule('node:${a.path}')[k] });`,
      loader: 'js',
    }));
  },
};

const omitted = (ids: string[]): Plugin => ({
  name: 'nodewright-omit',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (a) => (ids.includes(a.path) ? { path: a.path, namespace: 'nw-omitted' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'nw-omitted' }, (a) => ({
      contents: `throw Object.assign(new Error(${JSON.stringify(`${a.path} is left out of this bundle (package/layout.ts omit)`)}), { code: 'NW_INTERNAL' });`,
      loader: 'js',
    }));
  },
});

const common = (o: { target?: string }): BuildOptions => ({
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: o.target ?? 'node20',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  banner: { js: REQUIRE_BANNER },
  plugins: [lazyBuiltins],
});

async function run(opts: BuildOptions, what: string): Promise<void> {
  try {
    await build(opts);
  } catch (e) {
    throw new NwError('NW_PKG_BUILD', `esbuild failed for ${what}: ${(e as Error).message.split('\n').slice(0, 8).join('\n')}`);
  }
}

/** A side module's dynamic imports, as a require of its file beside the bundle when first imported. */
const sideBundles = (side: SideBundle[], fileOf: (s: SideBundle) => string): Plugin => ({
  name: 'nodewright-side-bundles',
  setup(b) {
    b.onResolve({ filter: /^\./ }, (a) => {
      const s = side.find((x) => x.entry === path.resolve(a.resolveDir, a.path).replace(/\.js$/, '.ts'));
      if (!s) return undefined;
      if (a.kind !== 'dynamic-import') return { errors: [{ text: `${a.path} is a side bundle (package/layout.ts): import it with import(), not ${a.kind}` }] };
      return { path: s.name, namespace: 'nw-side' };
    });
    b.onLoad({ filter: /.*/, namespace: 'nw-side' }, (a) => ({
      contents: `module.exports = process.getBuiltinModule('node:module').createRequire(${LIB_DIR} + '/')('./${fileOf(side.find((x) => x.name === a.path)!)}');`,
      loader: 'js',
    }));
  },
});

export async function bundle(o: BundleOptions): Promise<void> {
  const opts = common(o);
  // a snapshot bundle is CommonJS: no ESM require banner
  if (o.snapshot) opts.banner = {};
  const dir = path.dirname(o.outfile);
  if (o.pinoWorkers) {
    opts.banner = { js: o.snapshot ? pinoSnapshotBanner('pino') : REQUIRE_BANNER + pinoBanner('pino') };
    const resolve = createRequire(import.meta.url).resolve;
    for (const [name, mod] of Object.entries(PINO_FILES)) {
      await run({ ...common(o), entryPoints: [resolve(mod)], outfile: path.join(dir, 'pino', `${name}.mjs`) }, mod);
    }
  }
  const omit = o.omit?.length ? [omitted(o.omit)] : [];
  const define: Record<string, string> = o.commit ? { NW_BUILD_COMMIT: JSON.stringify(o.commit) } : {};
  if (o.snapshot) {
    const side = o.snapshot.side ?? [];
    const fileOf = (x: SideBundle) => `${path.basename(o.outfile, path.extname(o.outfile))}-${x.name}.cjs`;
    for (const x of side) {
      await run({ ...common(o), format: 'cjs', banner: {}, plugins: [], entryPoints: [x.entry], outfile: path.join(dir, fileOf(x)), external: o.external ?? [], define }, x.entry);
    }
    opts.format = 'cjs';
    // host/build-info.ts reads import.meta.url only without a baked-in commit (a dev build), never here.
    opts.logOverride = { 'empty-import-meta': 'silent' };
    opts.plugins = [...omit, sideBundles(side, fileOf), snapshotBuiltins(o.snapshot.node)];
  } else {
    opts.plugins = [...omit, lazyBuiltins];
  }
  if (o.split && !o.snapshot) {
    const name = path.basename(o.outfile, '.mjs');
    // chunks beside the entry, so the pino banner's ./pino/ paths hold in every one of them
    const out = { entryPoints: { [name]: o.entry }, outdir: dir, splitting: true, outExtension: { '.js': '.mjs' }, chunkNames: `${name}-[hash]` };
    await run({ ...opts, ...out, external: o.external ?? [], define }, o.entry);
    return;
  }
  await run({ ...opts, entryPoints: [o.entry], outfile: o.outfile, external: o.external ?? [], define }, o.entry);
}
