// P2: drift repair latency — tamper with the keyring (overwrite) → the agent has restored it,
// 100 tampers against a running agent with the default debounce; p50 and p99.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { percentile, report } from './lib.js';
import { KEYRING, benchSandbox, postBundle, sleep, startAgent, stop, waitHttp } from './agent-sandbox.js';

const TAMPERS = 100;

export async function run(): Promise<void> {
  const sb = await benchSandbox();
  const agent = startAgent(sb);
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
        if (performance.now() - t0 > 10_000) throw new Error(`tamper ${i} not repaired within 10 s`);
        await sleep(1);
      }
      lat.push(performance.now() - t0);
      await sleep(30 + Math.random() * 40);
    }
  } finally {
    await stop(agent);
    sb.cleanup();
  }
  const p50 = percentile(lat, 50);
  const p99 = percentile(lat, 99);
  console.log(`tamper → restored over ${lat.length} tampers: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms (debounce 100 ms)`);
  report({ id: 'P2', metric: 'drift_repair_p99', value: Number(p99.toFixed(1)), unit: 'ms', op: '<=', target: 500, extra: { p50, p99, max: Math.max(...lat), n: lat.length } });
}
