// `nodewright-agent unit …`: the worker-side unit editor CLI (a stable contract).
//   unit bind-mount --unit FILE --volume NAME --source PATH --target PATH [--read-only] [--write] [--json]
//     exit 0 changed or already present; exit 2 (NW_… on stderr) on bad input, file untouched.
//   unit lint --unit FILE [--json]
//     exit 0 no warnings; exit 1 warnings printed as FILE:LINE: message; exit 2 bad input.
import path from 'node:path';
import type { Command } from 'commander';
import { NwError } from '../../host/errors.js';
import type { RootedFs } from '../../host/fs.js';
import type { effectiveEnvironment } from '../../systemd/environment.js';

// Loaded when a unit command runs, not on every start of the agent CLI (the daemon's start-up time counts).
const editor = async () => {
  const [host, sources, environment, environmentFile, diff, lint, bindMount] = await Promise.all([
    import('../../host/index.js'),
    import('../../systemd/sources.js'),
    import('../../systemd/environment.js'),
    import('../../systemd/environment-file.js'),
    import('../../systemd/diff.js'),
    import('../../systemd/lint.js'),
    import('../../rkt/unit-bind-mount.js'),
  ]);
  return { ...host, ...sources, ...environment, ...environmentFile, ...diff, ...lint, ...bindMount };
};

interface CommonOpts {
  unit: string;
  root: string;
  stateDir: string;
  json?: boolean;
}

interface BindMountOpts extends CommonOpts {
  volume: string;
  source: string;
  target: string;
  readOnly?: boolean;
  write?: boolean;
}

/** --unit as a path inside the root; relative paths are taken from the cwd when root is /. */
function unitPathOf(o: CommonOpts): string {
  if (path.isAbsolute(o.unit)) return o.unit;
  if (path.resolve(o.root) === '/') return path.resolve(o.unit);
  throw new NwError('NW_USAGE', `--unit ${o.unit} must be an absolute path (as the worker sees it) when --root is given`);
}

export function registerUnitCommands(program: Command): void {
  const unit = program.command('unit').description('inspect and edit systemd units (kubelet-wrapper bind mounts)').exitOverride();
  // Usage errors throw (exit 2 via runCli) instead of commander's own exit 1.
  const common = (c: Command) =>
    c
      .exitOverride()
      .requiredOption('--unit <file>', 'unit file (drop-ins in FILE.d/*.conf are honoured)')
      .option('--root <dir>', 'treat this directory as the worker\'s /', '/')
      .option('--state-dir <dir>', 'agent state dir inside the root (backups go under it)', '/var/lib/nodewright')
      .option('--json', 'machine-readable output');

  common(
    unit
      .command('bind-mount')
      .description('make a --volume/--mount pair present exactly once in RKT_RUN_ARGS (or RKT_OPTS)')
      .requiredOption('--volume <name>', 'rkt volume name, e.g. ceph-keyring')
      .requiredOption('--source <path>', 'host path')
      .requiredOption('--target <path>', 'path inside the kubelet container')
      .option('--read-only', 'mount read-only (readOnly=true)')
      .option('--write', 'write the change (atomically, with a backup); without it only the diff is printed'),
  ).action(async (o: BindMountOpts) => {
    const { createHost, loadUnitSources, planUnitBindMount, unifiedDiff } = await editor();
    const host = createHost({ root: o.root, stateDir: o.stateDir });
    const unitPath = unitPathOf(o);
    const src = await loadUnitSources(host.fs, unitPath);
    const plan = planUnitBindMount(src, { name: o.volume, source: o.source, target: o.target, readOnly: o.readOnly === true });
    const diffs = plan.changes.map((c) => unifiedDiff(c.path, c.before, c.after));
    const notes = await overridingEnvironmentFiles(host.fs, src, plan.variable);
    const backups: string[] = [];
    if (o.write) {
      for (const c of plan.changes) {
        // Refuse to overwrite a file that changed since we read it.
        const now = await host.fs.readTextIfExists(c.path);
        if (now !== c.before) throw new NwError('NW_FS', `${c.path} changed while planning the edit: run the command again`);
      }
      for (const c of plan.changes) {
        const b = await host.fs.writeAtomic(c.path, c.after, { backup: true });
        if (b) backups.push(b.file);
      }
    }
    if (o.json) {
      process.stdout.write(
        JSON.stringify(
          {
            unit: unitPath,
            variable: plan.variable,
            changed: plan.changes.length > 0,
            written: Boolean(o.write) && plan.changes.length > 0,
            summary: plan.summary,
            value: plan.value,
            changes: plan.changes.map((c, k) => ({ path: c.path, diff: diffs[k] })),
            backups,
            notes,
          },
          null,
          2,
        ) + '\n',
      );
      return;
    }
    for (const n of notes) process.stderr.write(`warning: ${n}\n`);
    if (!plan.changes.length) {
      process.stdout.write(`${plan.summary}\n`);
      return;
    }
    process.stdout.write(diffs.join(''));
    process.stderr.write(
      o.write
        ? `wrote ${plan.changes.map((c) => c.path).join(', ')} (backup: ${backups.join(', ') || 'none, new file'}); ${plan.summary}\n` +
            `run: systemctl daemon-reload && systemctl restart ${path.posix.basename(unitPath)}\n`
        : `dry run (add --write to apply): ${plan.summary}\n`,
    );
  });

  common(unit.command('lint').description('warn about unit-file mistakes systemd accepts silently')).action(async (o: CommonOpts) => {
    const { createHost, loadUnitSources, allSources, lintUnit } = await editor();
    const host = createHost({ root: o.root, stateDir: o.stateDir });
    const unitPath = unitPathOf(o);
    const src = await loadUnitSources(host.fs, unitPath);
    const warnings = allSources(src).flatMap((s) => lintUnit(s));
    if (o.json) process.stdout.write(JSON.stringify({ unit: unitPath, warnings }, null, 2) + '\n');
    else for (const w of warnings) process.stdout.write(`${w.path}:${w.line}: ${w.message}\n`);
    if (warnings.length) process.exitCode = 1;
  });
}

/** EnvironmentFile= entries that also set the variable override Environment= at exec time. */
async function overridingEnvironmentFiles(fs: RootedFs, src: Parameters<typeof effectiveEnvironment>[0], name: string): Promise<string[]> {
  const { readEnvironmentFiles, effectiveEnvironment } = await editor();
  const files = await readEnvironmentFiles(fs, effectiveEnvironment(src).environmentFiles);
  const notes: string[] = [];
  const hit = files.vars[name];
  if (hit) notes.push(`EnvironmentFile ${hit.path} also sets ${name} and overrides Environment= when the service starts: edit it there instead`);
  for (const m of files.missing.filter((f) => !f.optional)) {
    notes.push(`EnvironmentFile ${m.path} does not exist: the service will not start until it does (or write EnvironmentFile=-${m.path})`);
  }
  return notes;
}
