// What `npm run demo` and `npm test` must set up before they build: a pure decision from facts
// that lab/setup/ensure.mjs gathers (no I/O here, so the rules are tested on their own).
// Plain JavaScript with no dependencies: it runs before node_modules exists.

/**
 * @typedef {{ lock: string, deps: string, node: string }} Stamp
 *   lock: sha256 of package-lock.json; deps: sha256 of lab/install-deps.sh;
 *   node: the Node ABI and platform node_modules was installed for (native modules: better-sqlite3).
 * @typedef {{
 *   want: Stamp,
 *   stamp: Stamp | null,
 *   nodeModules: 'missing' | 'dir' | 'link',
 *   root: boolean,
 * }} SetupFacts
 * @typedef {'install-deps' | 'check-deps' | 'npm-ci'} SetupStep
 * @typedef {{ steps: SetupStep[], notes: string[], writeStamp: boolean }} SetupPlan
 */

/** @param {SetupFacts} f @returns {{ debian: boolean, modules: boolean }} */
export function staleness(f) {
  const s = f.stamp;
  return {
    debian: !s || s.deps !== f.want.deps,
    modules: f.nodeModules === 'missing' || !s || s.lock !== f.want.lock || s.node !== f.want.node,
  };
}

/** @param {SetupFacts} f @returns {SetupPlan} */
export function planSetup(f) {
  const stale = staleness(f);
  /** @type {SetupStep[]} */
  const steps = [];
  const notes = [];
  let writeStamp = stale.debian || stale.modules;
  // Installing Debian packages needs root; without it, only check that they are there.
  if (stale.debian) steps.push(f.root ? 'install-deps' : 'check-deps');
  if (stale.modules) {
    if (f.nodeModules === 'link') {
      // A node_modules linked from another checkout is that checkout's to reinstall: `npm ci`
      // here would delete what the link points to, under every checkout that shares it.
      notes.push(
        'node_modules is a link to another checkout and does not match this package-lock.json (or was never set up): ' +
          'not reinstalling through the link; run `npm ci` in the checkout that owns it if the build or tests fail',
      );
      writeStamp = false;
    } else {
      steps.push('npm-ci');
    }
  }
  return { steps, notes, writeStamp };
}

/** @param {unknown} v @returns {Stamp | null} a stamp read back from disk, or null when it is not one */
export function parseStamp(v) {
  if (!v || typeof v !== 'object') return null;
  const o = /** @type {Record<string, unknown>} */ (v);
  return typeof o.lock === 'string' && typeof o.deps === 'string' && typeof o.node === 'string'
    ? { lock: o.lock, deps: o.deps, node: o.node }
    : null;
}
