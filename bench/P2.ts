// P2: drift repair latency — tamper with the keyring (overwrite) → the agent has restored it,
// 100 tampers against a running agent with the default drift settings; p50 and p99, on every
// runtime of bench/agent-runtime.ts, judged on the last (the package when present).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { percentile, report } from './lib.js';
import { agentRuntimes, sideBySide, type AgentRuntime } from './agent-runtime.js';
import { KEYRING, benchSandbox, postBundle, sleep, startAgent, stop, waitHttp } from './agent-sandbox.js';

const TAMPERS = 100;

async function tamper(rt: AgentRuntime): Promise<number[]> {
  const sb = await benchSandbox();
  const agent = startAgent(sb, rt);
  const lat: number[] = [];
  try {
    await waitHttp(`http://127.0.0.1:${sb.port}/healthz`);
    await postBundle(sb);
    await sleep(500); // the drift watch is armed after the first reconcile
    const file = path.join(sb.root, 'etc/ceph/ceph.client.k8s.keyring');
    for (let i = 0; i < TAMPERS; i++) {
      const t0 = performance.now();
      writeFileSync(file, `tampered ${i}\n`);
      for (;;) {
        let text = '';
        try {
          text = readFileSync(file, 'utf8');
        } catch {}
        if (text === KEYRING) break;
        if (performance.now() - t0 > 10_000) throw new Error(`${rt.mode}: tamper ${i} not repaired within 10 s`);
        await sleep(1);
      }
      lat.push(performance.now() - t0);
      await sleep(30 + Math.random() * 40);
    }
  } finally {
    await stop(agent);
    sb.cleanup();
  }
  return lat;
}

export async function run(): Promise<void> {
  const rts = agentRuntimes();
  const lats = new Map<AgentRuntime, number[]>();
  for (const rt of rts) lats.set(rt, await tamper(rt));
  const stats = (lat: number[]) => ({ p50: percentile(lat, 50), p99: percentile(lat, 99), max: Math.max(...lat), n: lat.length });
  console.log(
    `tamper → restored over ${TAMPERS} tampers:\n` +
      sideBySide(rts.map((rt) => {
        const s = stats(lats.get(rt)!);
        return { rt, text: `p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms` };
      })),
  );
  const judged = stats(lats.get(rts[rts.length - 1])!);
  report({
    id: 'P2',
    metric: 'drift_repair_p99',
    value: Number(judged.p99.toFixed(1)),
    unit: 'ms',
    op: '<=',
    target: 50,
    extra: { mode: rts[rts.length - 1].mode, modes: Object.fromEntries(rts.map((rt) => [rt.mode, { label: rt.label, ...stats(lats.get(rt)!) }])) },
  });
}
