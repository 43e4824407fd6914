// lab/prometheus: the real Debian Prometheus started on a free port with a rule file of ours, its alert
// firing through the API the rollout gate reads, then stopped by pid and its dir gone.
import { afterEach, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import { startPrometheus, type PrometheusLab } from '../../../lab/prometheus/lab.js';

let lab: PrometheusLab | null = null;
afterEach(async () => {
  await lab?.stop();
  lab = null;
});

const RULES = `groups:
  - name: lab
    rules:
      - alert: NodewrightLabAlways
        expr: vector(1)
        labels: { severity: warning }
`;

test('starts on a free port with our rules, fires the rule, stops by pid', async () => {
  lab = await startPrometheus({ rules: { 'lab.rules.yml': RULES } });
  expect(lab.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const t0 = Date.now();
  let names: string[] = [];
  while (Date.now() - t0 < 20_000) {
    const body = (await (await fetch(`${lab.url}/api/v1/alerts`)).json()) as { data: { alerts: { labels: { alertname: string }; state: string }[] } };
    names = body.data.alerts.filter((a) => a.state === 'firing').map((a) => a.labels.alertname);
    if (names.length) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(names).toEqual(['NodewrightLabAlways']);
  const { pid, dir } = lab;
  await lab.stop();
  expect(() => process.kill(pid, 0)).toThrow();
  expect(existsSync(dir)).toBe(false);
});
