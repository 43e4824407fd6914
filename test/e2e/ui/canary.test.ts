// A failed canary seen from Chromium: the simulated agent that gets the canary reports its probes
// step failed with its own message — markup and script included. While the gate runs the page shows
// the time left; once the gate deadline passes the rollout pauses and the page names the node, the
// check and the agent's message, as text: no dialog fires, no element is injected.
import type { AgentStatus } from '../../../protocol/status.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUiLab, textOf, watchPage, type UiLab } from './lab.js';

const NODES = ['k1', 'k2', 'k3'];
const HOSTILE = `rbd write to kube/nodewright-probe timed out <script>alert("nw-xss-1")</script><img src=x onerror=alert("nw-xss-2")> & "quoted"`;

/** After it accepted a desired state, the agent says its probes failed with the HOSTILE message. */
const failingProbes = (s: AgentStatus): AgentStatus => {
  if (!s.desired) return s;
  const at = new Date().toISOString();
  const error = { code: 'NW_CEPH_TIMEOUT', message: HOSTILE };
  return {
    ...s,
    converged: false,
    ready: false,
    steps: s.steps.map((st) => (st.name === 'probes' ? { ...st, state: 'failed', message: HOSTILE, error, at } : st)),
    probes: s.probes.map((p) => (p.name === 'rbd' ? { ...p, status: 'fail', ok: false, error } : p)),
    lastError: { ...error, step: 'probes', at },
  };
};

describe('a failed canary on the dashboard, in Chromium', () => {
  let lab: UiLab;
  beforeAll(async () => {
    lab = await startUiLab({ nodes: NODES });
  }, 180_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it('time left while the canary gates; then the reason: node, check and the agent message, as literal text', async () => {
    for (const a of lab.fleet.agents.values()) a.override = failingProbes;
    const id = lab.startRollout('canary', ['--failure-domain', 'none', '--steps', '1', '--gate-timeout', '12s', '--min-healthy', '2s', '--on-failure', 'pause']);
    const { context, page } = await lab.signedIn();
    const seen = watchPage(page, { acceptConfirms: false });
    await page.goto(`${lab.fleet.url}/ui/rollouts/${id}`);

    // the gate's deadline, counting down on the page (live, no reload)
    await page.waitForFunction(() => /\d+\s*s/.test(document.querySelector('[data-testid=time-left]')?.textContent ?? ''), null, { timeout: 15_000 });
    const left = Number((await textOf(page, '[data-testid=time-left]')).match(/(\d+)\s*s/)![1]);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(12);
    expect(await textOf(page, '[data-testid=waits-for]')).not.toBe('');

    await page.waitForFunction(() => document.querySelector('[data-testid=rollout-phase]')?.textContent?.trim() === 'paused', null, { timeout: 30_000 });
    const api = await lab.rollout(id);
    expect(api.state).toBe('paused');
    const canary = api.nodes.find((n) => n.phase === 'failed')!;
    expect(canary).toBeDefined();
    const reason = await textOf(page, '[data-testid=reason]');
    expect(reason).toContain(canary.name);
    expect(reason).toMatch(/probes|rbd/);
    // the agent's own words, markup shown as text
    expect(reason).toContain('<script>alert("nw-xss-1")</script>');
    expect(reason).toContain('<img src=x onerror=alert("nw-xss-2")>');
    expect(await textOf(page, `tr[data-node="${canary.name}"] td.phase`)).toBe('failed');

    // the node's page: the step with the agent's message, also as text
    await page.goto(`${lab.fleet.url}/ui/nodes/${canary.name}`);
    expect(await textOf(page, '[data-testid=node-state]')).toContain('degraded');
    expect(await textOf(page, 'tr[data-step="probes"]')).toContain(`<script>alert("nw-xss-1")</script>`);
    expect(await textOf(page, 'tr[data-probe="rbd"]')).toMatch(/fail/);

    // the fleet page shows the canary's tile degraded, its title escaped as well
    await page.goto(`${lab.fleet.url}/ui/`);
    expect(await page.getAttribute(`a.tile[data-node="${canary.name}"]`, 'data-state')).toBe('degraded');

    // nothing of it ran or was injected
    expect(seen.dialogs).toEqual([]);
    for (const url of [`/ui/rollouts/${id}`, `/ui/nodes/${canary.name}`, `/ui/events`]) {
      await page.goto(`${lab.fleet.url}${url}`);
      expect(await page.$$('script:not([src])'), url).toEqual([]);
      expect(await page.$('img[src="x"]'), url).toBeNull();
    }
    expect(seen.dialogs).toEqual([]);

    // Abort from the page
    await page.goto(`${lab.fleet.url}/ui/rollouts/${id}`);
    seen.acceptConfirms = true;
    await page.getByRole('button', { name: 'Abort', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid=rollout-phase]')?.textContent?.trim() === 'aborted', null, { timeout: 20_000 });
    expect((await lab.rollout(id)).state).toBe('aborted');
    expect(seen.dialogs.map((d) => d.type)).toEqual(['confirm']);
    await context.close();
  }, 120_000);
});
