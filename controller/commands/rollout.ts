// nodewright rollout start | ls | status [--watch] | pause | resume | abort | rollback (all --json).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { NwError } from '../../host/errors.js';
import { parseLabels } from '../fleet/join-token.js';
import { parseFailureDomainSource } from '../rollout/domains.js';
import { parsePerDomainLimit, strategyFromYaml, type StrategyInput } from '../rollout/strategy.js';
import { gateResultsOf } from '../rollout/engine.js';
import { readText } from './files.js';
import { ownDomain } from '../rollout/engine.js';
import { isSettled } from '../rollout/summary.js';
import type { RolloutView } from '../rollout/view.js';
import { formatTable, out, printJson, withClient, withOperator, type OperatorOpts } from './operator.js';
import { fieldText as f, jsonText, terminalText } from './safe-text.js';

/** The rollout's desired YAML; `ceph.keyringFile` (relative to the YAML) is read into `ceph.keyring`. */
export function readDesiredYaml(file: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new NwError('NW_USAGE', `cannot read the desired YAML ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new NwError('NW_USAGE', `${file}: the desired state must be a mapping`);
  const d = { ...(doc as Record<string, unknown>) };
  const ceph = d.ceph as Record<string, unknown> | undefined;
  if (ceph && typeof ceph.keyringFile === 'string') {
    const kf = path.resolve(path.dirname(path.resolve(file)), ceph.keyringFile);
    let keyring: string;
    try {
      keyring = readFileSync(kf, 'utf8');
    } catch (e) {
      throw new NwError('NW_USAGE', `${file}: ceph.keyringFile ${kf} is unreadable (${(e as NodeJS.ErrnoException).code})`);
    }
    const { keyringFile: _k, ...rest } = ceph;
    d.ceph = { ...rest, keyring };
  }
  return d;
}

/** Each wave with the failure domain of its nodes: "wave 1: w1 (compute-a), w3 (compute-b)". */
export function waveDomainLines(r: Pick<RolloutView, 'nodes' | 'waveCount'>): string[] {
  return Array.from({ length: r.waveCount }, (_, i) => {
    const ns = r.nodes.filter((n) => n.wave === i);
    return `wave ${i + 1}: ${ns.map((n) => `${f(n.name)} (${n.failureDomain === ownDomain(n.name) ? 'unmapped' : f(n.failureDomain)})`).join(', ')}`;
  });
}

function domainLines(r: RolloutView): string[] {
  if (!r.failureDomainSource) return [];
  return [
    `  failure domains: ${f(r.failureDomainSource)}, ${r.unmapped ?? 0} unmapped${r.failureDomainNote ? ` — ${f(r.failureDomainNote)}` : ''}`,
    // (a pruned rollout kept its summary only: no nodes to show)
    ...(r.nodes.length ? waveDomainLines(r).map((l) => `  ${l}`) : []),
  ];
}

const TERMINAL = ['completed', 'aborted', 'halted'];

function lines(r: RolloutView): string[] {
  const done = r.nodes.filter((n) => isSettled(n)).length;
  const head = `${f(r.id)} ${f(r.state)} wave ${Math.min(r.wave + 1, r.waveCount)}/${r.waveCount} nodes ${done}/${r.nodes.length} failures ${r.failures}/${r.failureBudget}${r.reason ? ` — ${f(r.reason)}` : ''}`;
  const nodes = r.nodes.map((n) => `  ${f(n.name).padEnd(12)} wave ${n.wave + 1}  ${f(n.phase).padEnd(12)} gen ${n.targetGeneration ?? '-'}${n.reason ? `  ${f(n.reason)}` : ''}`);
  return [head, ...domainLines(r), ...gateLines(r).map((l) => `  ${l}`), ...nodes, ...r.waitsFor.map((w) => `  waits: ${f(w)}`)];
}

/** "gate cephHealth: holds — HEALTH_WARN (OSDMAP_FLAGS: noout flag(s) set)" for each gate of the strategy. */
function gateLines(r: RolloutView): string[] {
  if (!r.strategy?.gates?.length) return [];
  return gateResultsOf(r).map((g) => `gate ${f(g.gate)}: ${g.pass ? 'passes' : 'holds'} — ${f(g.message)}`);
}

const bar = (done: number, total: number, width = 20) => `[${'#'.repeat(Math.round((done / Math.max(total, 1)) * width)).padEnd(width, '.')}]`;

function liveView(r: RolloutView): string {
  const waves = Array.from({ length: r.waveCount }, (_, i) => {
    const ns = r.nodes.filter((n) => n.wave === i);
    return `wave ${i + 1} ${bar(ns.filter((n) => isSettled(n)).length, ns.length)} ${ns.map((n) => `${f(n.name)}:${f(n.phase)}`).join(' ')}`;
  });
  const left = r.timeLeftMs !== null ? `  (next deadline in ${Math.ceil(r.timeLeftMs / 1000)} s)` : '';
  return [`${f(r.id)}  ${f(r.state).toUpperCase()}  ${f(r.target)}${left}`, ...(r.reason ? [`blocked: ${f(r.reason)}`] : []), ...gateLines(r), ...waves, ...r.waitsFor.map((w) => `waits for: ${f(w)}`)].join('\n');
}

/**
 * `rollout start` flags → the `strategy` of POST /v1/rollouts (the controller checks every key
 * again). The failure-domain flags are checked here, so a bad value names the flag.
 */
export function strategyFromFlags(o: Record<string, unknown>): StrategyInput {
  const text = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  return {
    ...(text('steps') ? { steps: text('steps') } : {}),
    ...(text('maxUnavailable') ? { maxUnavailable: text('maxUnavailable') } : {}),
    ...(o.failureDomain !== undefined ? { failureDomain: parseFailureDomainSource(String(o.failureDomain), '--failure-domain') } : {}),
    ...(o.maxUnavailablePerDomain !== undefined ? { maxUnavailablePerDomain: parsePerDomainLimit(String(o.maxUnavailablePerDomain), '--max-unavailable-per-domain') } : {}),
    ...(text('failureBudget') ? { failureBudget: text('failureBudget') } : {}),
    ...(text('onFailure') ? { onFailure: text('onFailure') } : {}),
    ...(text('minHealthy') ? { minHealthy: text('minHealthy') } : {}),
    ...(text('gateTimeout') ? { gateTimeout: text('gateTimeout') } : {}),
    ...(text('soak') ? { soak: text('soak') } : {}),
    ...(o.window ? { windows: o.window as string[] } : {}),
    ...(o.autoRollback === false ? { autoRollback: false } : {}),
    ...(text('gateFailure') ? { gateFailure: text('gateFailure') } : {}),
    ...(text('gateWaitTimeout') ? { gateWaitTimeout: text('gateWaitTimeout') } : {}),
    ...gatesFromFlags(o),
  };
}

/** --gate-ceph-health, --gate-prometheus URL --gate-alerts REGEX: the gates they name (replacing the file's). */
function gatesFromFlags(o: Record<string, unknown>): Pick<StrategyInput, 'gates'> {
  const gates: unknown[] = [];
  if (o.gateCephHealth) gates.push({ cephHealth: {} });
  const url = typeof o.gatePrometheus === 'string' ? o.gatePrometheus : undefined;
  const alerts = typeof o.gateAlerts === 'string' ? o.gateAlerts : undefined;
  if (alerts && !url) throw new NwError('NW_USAGE', '--gate-alerts needs --gate-prometheus URL (the Prometheus whose alerts it filters)');
  if (url && !alerts) throw new NwError('NW_USAGE', '--gate-prometheus needs --gate-alerts REGEX; for a query gate, write it in the --strategy file');
  if (url) gates.push({ prometheus: { url, alerts } });
  return gates.length ? { gates } : {};
}

/** --strategy FILE (the strategy's fields as YAML) with the flags given beside it overriding its keys. */
export async function strategyInput(o: Record<string, unknown>): Promise<StrategyInput> {
  const flags = strategyFromFlags(o);
  if (typeof o.strategy !== 'string') return flags;
  const file = o.strategy;
  let doc: unknown;
  try {
    doc = parseYaml(await readText(file, 'the strategy file'));
  } catch (e) {
    if (e instanceof NwError) throw e;
    throw new NwError('NW_USAGE', `cannot read the strategy file ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new NwError('NW_USAGE', `${file}: the strategy must be a mapping of keys like steps, gates, onFailure`);
  const merged = { ...(doc as Record<string, unknown>), ...flags };
  try {
    strategyFromYaml(merged); // the controller checks it again; here a mistake names the file
  } catch (e) {
    if (e instanceof NwError) throw new NwError(e.code, `${file}: ${e.message}`);
    throw e;
  }
  return merged as StrategyInput;
}

export function registerRolloutCommands(program: Command): void {
  const rollout = program.command('rollout').description('roll a desired state out to a node group in waves with health gates');

  withOperator(
    rollout
      .command('start')
      .description('start a rollout')
      .option('--group <group>', 'target node group')
      .option('--labels <k=v,...>', 'target nodes with these labels')
      .option('--nodes <a,b,...>', 'target these nodes')
      .requiredOption('--desired <file>', 'desired-state YAML (protocol/desired.ts fields without schema/generation; ceph.keyringFile)')
      .option('--steps <ramp>', 'canary ramp, e.g. 1,5,20% (the last repeats)')
      .option('--max-unavailable <n>', 'nodes in flight at most (unhealthy nodes outside the rollout count)')
      .option('--failure-domain <source>', 'what a wave keeps apart: hypervisor, label:KEY or none (default: controller.yaml failureDomain)')
      .option('--max-unavailable-per-domain <n>', 'nodes of one failure domain in flight or unhealthy at most (default 1)')
      .option('--failure-budget <n|p%>', 'failures the whole run tolerates')
      .option('--on-failure <pause|halt|skip>', 'what a failure within the budget does')
      .option('--min-healthy <duration>', 'a node must hold its gate this long')
      .option('--gate-timeout <duration>', 'deadline of each gate')
      .option('--soak <duration>', 'wait between waves')
      .option('--window <spec...>', 'maintenance window(s), e.g. "Mon-Fri 22:00-04:00 Europe/Berlin"')
      .option('--no-auto-rollback', 'do not roll a failed node back automatically')
      .option('--strategy <file>', "YAML with the strategy's fields (docs/reference/rollout-strategy.md); flags given beside it override its keys")
      .option('--gate-ceph-health', 'hold while the Ceph cluster the desired state names is not HEALTH_OK')
      .option('--gate-prometheus <url>', 'hold while alerts of this Prometheus matching --gate-alerts fire')
      .option('--gate-alerts <regex>', 'alert names that hold the rollout, e.g. "^Nodewright|^Ceph"')
      .option('--gate-failure <wait|pause>', 'a failing gate waits (default) or pauses the rollout')
      .option('--gate-wait-timeout <duration>', 'a gate holding longer than this pauses the rollout (default 1h)'),
  ).action(async (o: OperatorOpts & Record<string, string | string[] | boolean | undefined>) => {
    const strategy = await strategyInput(o);
    const body = {
      ...(o.group ? { group: o.group } : {}),
      ...(o.labels ? { labels: parseLabels(o.labels as string) } : {}),
      ...(o.nodes ? { nodes: (o.nodes as string).split(',').map((s) => s.trim()).filter(Boolean) } : {}),
      desired: readDesiredYaml(o.desired as string),
      strategy,
    };
    const r = await withClient(o, (c) => c.request<RolloutView>('POST', '/v1/rollouts', body));
    if (o.json) printJson(r);
    else out(lines(r).join('\n'));
  });

  withOperator(
    rollout
      .command('ls')
      .description('list rollouts, newest first, a page at a time')
      .option('--limit <n>', 'rollouts per page (1-1000)', '50')
      .option('--cursor <cursor>', 'the next page: the cursor the previous page printed'),
  ).action(async (o: OperatorOpts & { limit: string; cursor?: string }) => {
    const limit = Number(o.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new NwError('NW_USAGE', `--limit must be a whole number from 1 to 1000, got '${o.limit}'`);
    const query = `?limit=${limit}${o.cursor ? `&cursor=${encodeURIComponent(o.cursor)}` : ''}`;
    const r = await withClient(o, (c) =>
      c.request<{ rollouts: { id: string; state: string; target: string; wave: number; waveCount: number; done: number; nodes: number; reason: string | null }[]; next: string | null }>('GET', `/v1/rollouts${query}`),
    );
    // the page's rows on stdout (JSON: the array, as before); where the next page starts on stderr
    if (r.next) process.stderr.write(`more: nodewright rollout ls --limit ${limit} --cursor ${r.next}\n`);
    if (o.json) return printJson(r.rollouts);
    out(formatTable(['ID', 'STATE', 'TARGET', 'WAVE', 'DONE', 'REASON'], r.rollouts.map((x) => [x.id, x.state, x.target, `${Math.min(x.wave + 1, x.waveCount)}/${x.waveCount}`, `${x.done}/${x.nodes}`, x.reason ?? ''])));
  });

  withOperator(rollout.command('status <id>').description('state, node phases, what it waits for').option('--watch', 'follow until it completes, halts or is aborted')).action(
    async (id: string, o: OperatorOpts & { watch?: boolean }) => {
      await withClient(o, async (c) => {
        const fetch = () => c.request<RolloutView>('GET', `/v1/rollouts/${encodeURIComponent(id)}`);
        if (!o.watch) {
          const r = await fetch();
          return o.json ? printJson(r) : out(lines(r).join('\n'));
        }
        const tty = process.stdout.isTTY && !o.json;
        let last = '';
        for (;;) {
          const r = await fetch();
          if (o.json) {
            const s = jsonText(r);
            if (s !== last) out(s);
            last = s;
          } else if (tty) {
            process.stdout.write(`\x1b[H\x1b[2J${terminalText(liveView(r))}\n`);
          } else {
            // plain lines: print what changed since the last look
            const now = lines(r);
            for (const l of now) if (!last.split('\n').includes(l) && !l.startsWith('  waits:')) out(l);
            last = now.join('\n');
          }
          if (TERMINAL.includes(r.state) || (r.state === 'paused' && r.nodes.every((n) => n.phase !== 'pushing' && n.phase !== 'gating' && !(n.phase === 'rolling_back')))) return;
          await new Promise((res) => setTimeout(res, 1000));
        }
      });
    },
  );

  for (const cmd of ['pause', 'resume', 'abort', 'rollback'] as const) {
    withOperator(rollout.command(`${cmd} <id>`).description(`${cmd} a rollout`)).action(async (id: string, o: OperatorOpts) => {
      const r = await withClient(o, (c) => c.request<RolloutView>('POST', `/v1/rollouts/${encodeURIComponent(id)}/${cmd}`));
      if (o.json) printJson(r);
      else out(lines(r).join('\n'));
    });
  }
}
