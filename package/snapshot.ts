// The packaged agent starts from a V8 startup snapshot (bench P3): at package time the package's own
// node runs the agent's CommonJS bundle under --build-snapshot (agent/snapshot.ts loads every module
// `run` needs), and each start deserializes that heap instead of compiling and running the bundle.
//
// Node can put only some built-ins into a user snapshot (lib/internal/main/mksnapshot.js; node:http's
// parser handle cannot be serialized at all). Every other built-in the bundle imports becomes an object
// of getters that loads the real module on first use after the start; its plain data (http.STATUS_CODES,
// which fastify reads while it loads) is copied in, as the package's node has it.
import { spawnSync } from 'node:child_process';
import type { Plugin } from 'esbuild';
import { builtinModules } from 'node:module';
import { NwError } from '../host/errors.js';

/** Built-ins Node 24 supports in a user snapshot (mksnapshot.js `supportedModules`): these load while it is built. */
export const SNAPSHOT_SAFE_BUILTINS = new Set([
  '_stream_duplex', '_stream_passthrough', '_stream_readable', '_stream_transform', '_stream_wrap', '_stream_writable',
  'assert', 'assert/strict', 'buffer', 'console', 'constants', 'crypto', 'diagnostics_channel', 'dns', 'events', 'fs',
  'fs/promises', 'net', 'os', 'path', 'path/posix', 'path/win32', 'process', 'punycode', 'querystring', 'stream',
  'stream/promises', 'string_decoder', 'sys', 'timers', 'timers/promises', 'url', 'util', 'util/types', 'v8', 'zlib',
]);

/** Node's warning for a built-in loaded while a snapshot is built that it has not verified: a packaging bug here. */
const UNVERIFIED = /It's not yet fully verified whether built-in module "([^"]+)"/g;

interface BuiltinShape {
  /** exports read through a getter (functions, classes, objects with a prototype, big data) */
  lazy: string[];
  /** exports copied as they are (small plain data) */
  data: Record<string, unknown>;
}

/** The export shapes of `names` in the package's own node (not the build machine's). */
function builtinShapes(node: string, names: string[]): Record<string, BuiltinShape> {
  const probe = `
    const plain = (v) => v === null || typeof v !== 'object' || [Object.prototype, Array.prototype, null].includes(Object.getPrototypeOf(v));
    const out = {};
    for (const name of ${JSON.stringify(names)}) {
      const m = process.getBuiltinModule('node:' + name);
      const shape = { lazy: [], data: {} };
      for (const k of Object.keys(m)) {
        const v = m[k];
        const json = typeof v === 'function' || !plain(v) ? undefined : JSON.stringify(v);
        if (json === undefined || json.length > 4096 || JSON.stringify(JSON.parse(json)) !== json) shape.lazy.push(k);
        else shape.data[k] = v;
      }
      out[name] = shape;
    }
    process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(node, ['-e', probe], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  if (r.status !== 0) throw new NwError('NW_PKG_BUILD', `${node} could not list its built-ins' exports (exit ${r.status ?? r.signal}): ${r.stderr.trim().slice(0, 500)}`);
  return JSON.parse(r.stdout) as Record<string, BuiltinShape>;
}

const lazyModule = (name: string, s: BuiltinShape): string =>
  `let m; const o = ${JSON.stringify(s.data)};
for (const k of ${JSON.stringify(s.lazy)}) Object.defineProperty(o, k, { enumerable: true, get: () => (m ??= process.getBuiltinModule('node:${name}'))[k] });
module.exports = o;`;

/** esbuild: every built-in import of a snapshot bundle, as process.getBuiltinModule() or as the getters above. */
export function snapshotBuiltins(node: string): Plugin {
  const all = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  return {
    name: 'nodewright-snapshot-builtins',
    setup(b) {
      const shapes = new Map<string, BuiltinShape>();
      b.onResolve({ filter: /^(node:)?[a-z_/0-9]+$/ }, (a) => {
        if (!all.has(a.path)) return undefined;
        const name = a.path.replace(/^node:/, '');
        return { path: name, namespace: SNAPSHOT_SAFE_BUILTINS.has(name) ? 'nw-builtin' : 'nw-builtin-after-start' };
      });
      b.onLoad({ filter: /.*/, namespace: 'nw-builtin' }, (a) => ({ contents: `module.exports = process.getBuiltinModule('node:${a.path}');`, loader: 'js' }));
      b.onLoad({ filter: /.*/, namespace: 'nw-builtin-after-start' }, (a) => {
        if (!shapes.has(a.path)) for (const [k, v] of Object.entries(builtinShapes(node, [a.path]))) shapes.set(k, v);
        return { contents: lazyModule(a.path, shapes.get(a.path)!), loader: 'js' };
      });
    },
  };
}

/**
 * `node --snapshot-blob BLOB --build-snapshot SCRIPT` with the NODE_OPTIONS the unit runs it with.
 * Refused when node fails, or when the script loaded a built-in Node has not verified for snapshots.
 */
export function buildSnapshot(o: { node: string; script: string; blob: string; nodeOptions: string }): void {
  const r = spawnSync(o.node, ['--snapshot-blob', o.blob, '--build-snapshot', o.script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_OPTIONS: o.nodeOptions },
    timeout: 120_000,
    maxBuffer: 16 << 20,
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) {
    throw new NwError('NW_PKG_BUILD', `building the start-up snapshot of ${o.script} failed (exit ${r.status ?? r.signal}):\n${out.split('\n').filter((l) => !/^\s*\d+: 0x/.test(l)).slice(0, 30).join('\n')}`);
  }
  const unverified = [...out.matchAll(UNVERIFIED)].map((m) => m[1]);
  if (unverified.length) {
    throw new NwError('NW_PKG_BUILD', `${o.script} loads built-in(s) ${[...new Set(unverified)].join(', ')} while its snapshot is built; Node does not support them there: load them after the start (package/snapshot.ts)`);
  }
}
