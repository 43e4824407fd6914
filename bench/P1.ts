// P1: idle RSS of `nodewright-agent run` (converged on a keyring-only desired state, drift watch
// and schedule armed) ÷ a bare `node -e "setInterval(()=>{},1e3)"` of the same binary, measured in
// the same run; on every runtime of bench/agent-runtime.ts, judged on the last (the package when
// present). Run 0 starts with an empty compile cache (a worker's first start, not judged); the
// judged runs share the cache it filled, as every later start of the installed unit does.
import { mkdtempSync, rmSync } from 'node:fs';
import { median, report } from './lib.js';
import { agentRuntimes, sideBySide, type AgentRuntime } from './agent-runtime.js';
import { benchSandbox, postBundle, rssKiB, sleep, startAgent, startBareNode, stop, waitHttp } from './agent-sandbox.js';

const IDLE_MS = 4000;
const RUNS = 3;

interface Runs {
  cacheDir: string;
  cold: number;
  ratios: number[];
  agents: number[];
  bares: number[];
}

async function once(rt: AgentRuntime, r: Runs, i: number): Promise<void> {
  const sb = await benchSandbox('', { cacheDir: r.cacheDir });
  const agent = startAgent(sb, rt);
  const bare = startBareNode(rt, 'setInterval(()=>{},1e3)');
  try {
    await waitHttp(`http://127.0.0.1:${sb.port}/healthz`);
    await postBundle(sb);
    await sleep(IDLE_MS);
    const a = rssKiB(agent.pid!);
    const b = rssKiB(bare.pid!);
    const what = i === 0 ? 'cold compile cache, not judged' : 'warm compile cache';
    console.log(`run ${i} ${rt.mode} (${what}): agent ${(a / 1024).toFixed(1)} MiB, bare node ${(b / 1024).toFixed(1)} MiB, ratio ${(a / b).toFixed(2)}`);
    if (i === 0) {
      r.cold = a / b;
      return;
    }
    r.agents.push(a);
    r.bares.push(b);
    r.ratios.push(a / b);
  } finally {
    await stop(agent);
    await stop(bare);
    sb.cleanup();
  }
}

export async function run(): Promise<void> {
  const rts = agentRuntimes();
  const runs = new Map(rts.map((rt) => [rt, { cacheDir: mkdtempSync('/tmp/nw-bench-cache-'), cold: NaN, ratios: [], agents: [], bares: [] } as Runs]));
  try {
    for (let i = 0; i <= RUNS; i++) for (const rt of rts) await once(rt, runs.get(rt)!, i);
  } finally {
    for (const r of runs.values()) rmSync(r.cacheDir, { recursive: true, force: true });
  }
  const mib = (k: number) => (k / 1024).toFixed(1);
  console.log(
    'idle RSS (median of the warm runs):\n' +
      sideBySide(rts.map((rt) => {
        const r = runs.get(rt)!;
        return { rt, text: `agent ${mib(median(r.agents))} MiB ÷ bare ${mib(median(r.bares))} MiB = ${median(r.ratios).toFixed(2)}× (first start ${r.cold.toFixed(2)}×)` };
      })),
  );
  const judged = runs.get(rts[rts.length - 1])!;
  report({
    id: 'P1',
    metric: 'idle_rss_ratio',
    value: Number(median(judged.ratios).toFixed(3)),
    unit: 'x',
    op: '<=',
    target: 1.5,
    extra: {
      mode: rts[rts.length - 1].mode,
      modes: Object.fromEntries(
        rts.map((rt) => {
          const r = runs.get(rt)!;
          return [rt.mode, { label: rt.label, ratio: median(r.ratios), firstStartRatio: r.cold, agentMiB: median(r.agents) / 1024, bareNodeMiB: median(r.bares) / 1024, runs: r.ratios }];
        }),
      ),
    },
  });
}
