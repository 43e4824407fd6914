// P1: idle RSS of `nodewright-agent run` (converged on a keyring-only desired state, drift watch
// and schedule armed) ÷ a bare `node -e "setInterval(()=>{},1e3)"`, measured in the same run.
import { spawn } from 'node:child_process';
import { median, report } from './lib.js';
import { benchSandbox, postBundle, rssKiB, sleep, startAgent, stop, waitHttp } from './agent-sandbox.js';

const IDLE_MS = 4000;

export async function run(): Promise<void> {
  const ratios: number[] = [];
  const agents: number[] = [];
  const bares: number[] = [];
  for (let i = 0; i < 3; i++) {
    const sb = await benchSandbox();
    const agent = startAgent(sb);
    const bare = spawn('node', ['-e', 'setInterval(()=>{},1e3)'], { stdio: 'ignore' });
    try {
      await waitHttp(`http://127.0.0.1:${sb.port}/healthz`);
      await postBundle(sb);
      await sleep(IDLE_MS);
      const a = rssKiB(agent.pid!);
      const b = rssKiB(bare.pid!);
      agents.push(a);
      bares.push(b);
      ratios.push(a / b);
      console.log(`run ${i + 1}: agent ${(a / 1024).toFixed(1)} MiB, bare node ${(b / 1024).toFixed(1)} MiB, ratio ${(a / b).toFixed(2)}`);
    } finally {
      await stop(agent);
      await stop(bare);
      sb.cleanup();
    }
  }
  report({
    id: 'P1',
    metric: 'idle_rss_ratio',
    value: Number(median(ratios).toFixed(3)),
    unit: 'x',
    op: '<=',
    target: 1.5,
    extra: { agentMiB: median(agents) / 1024, bareNodeMiB: median(bares) / 1024, runs: ratios },
  });
}
