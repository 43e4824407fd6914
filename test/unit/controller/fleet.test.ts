// Pure parts of the fleet room: join tokens, labels, durations, the poller's judgement and backoff,
// controller.yaml and operator.yaml parsing.
import { describe, expect, it } from 'vitest';
import { parseControllerConfig } from '../../../controller/config.js';
import { parseOperatorConfig, operatorConfigPath } from '../../../controller/commands/client.js';
import { agentUrl } from '../../../controller/fleet/enroll.js';
import { judge, nextDelayMs } from '../../../controller/fleet/health.js';
import { FleetView } from '../../../controller/fleet/view.js';
import type { NodeRecord } from '../../../controller/store/store.js';
import { hashSecret, newJoinToken, parseDuration, parseLabels, parseToken } from '../../../controller/fleet/join-token.js';
import type { AgentStatus } from '../../../protocol/status.js';

const status = (over: Partial<AgentStatus> = {}): AgentStatus => ({
  agent: { version: '0.1.0', pid: 1, startedAt: 'x', node: 'w1' },
  desired: { generation: 4, acceptedAt: '2026-12-01T10:00:00.000Z' },
  converged: true,
  ready: true,
  steps: [],
  kubelet: {},
  lastReconcile: { at: '2026-12-01T10:00:05.000Z', durationMs: 4000, trigger: 'desired', ok: true, generation: 4 },
  lastError: null,
  probes: [],
  rollbacks: 0,
  inflight: null,
  ...over,
});

describe('join tokens', () => {
  it('are id.secret; only the secret hash is kept; ttl sets expiresAt', async () => {
    const now = new Date('2026-12-01T10:00:00Z');
    const { token, record } = newJoinToken({ group: 'lab', labels: { zone: 'a' }, ttlMs: 3_600_000, now });
    const { id, secret } = parseToken(token);
    expect(record).toMatchObject({ id, secretHash: hashSecret(secret), group: 'lab', expiresAt: '2026-12-01T11:00:00.000Z', usedAt: null });
    expect(JSON.stringify(record)).not.toContain(secret);
    expect(() => parseToken('abc.def')).toThrow(expect.objectContaining({ code: 'NW_TOKEN' }));
  });

  it('labels and durations parse or give NW_USAGE', async () => {
    expect(parseLabels('zone=a, rack=r1')).toEqual({ zone: 'a', rack: 'r1' });
    expect(parseLabels(undefined)).toEqual({});
    expect(() => parseLabels('zone')).toThrow(expect.objectContaining({ code: 'NW_USAGE' }));
    expect(() => parseLabels('a=b c')).toThrow(expect.objectContaining({ code: 'NW_USAGE' }));
    expect([parseDuration('30s'), parseDuration('1h'), parseDuration('2d'), parseDuration('15m')]).toEqual([30_000, 3_600_000, 172_800_000, 900_000]);
    expect(() => parseDuration('1 hour')).toThrow(expect.objectContaining({ code: 'NW_USAGE' }));
  });

  it('a wildcard listen address becomes the address the join came from', async () => {
    expect(agentUrl('0.0.0.0:7701', '::ffff:10.0.0.5')).toBe('https://10.0.0.5:7701');
    expect(agentUrl('10.1.1.1:7701', '10.0.0.5')).toBe('https://10.1.1.1:7701');
    expect(agentUrl('[::]:7701', 'fd00::5')).toBe('https://[fd00::5]:7701');
  });
});

describe('poller judgement', () => {
  it('healthy only when ready and converged; the reason names what is wrong', async () => {
    expect(judge({ kind: 'status', status: status() }, 't')).toEqual({ health: 'healthy', reason: null, generation: 4, converged: true, ready: true, at: 't' });
    const failed = status({ ready: false, steps: [{ name: 'artifact', state: 'rolled_back', message: '', durationMs: 1, at: 'x', error: { code: 'NW_HEALTH', message: 'm' } }] });
    expect(judge({ kind: 'status', status: failed }, 't')).toMatchObject({ health: 'degraded', reason: 'artifact rolled_back (NW_HEALTH)', generation: 4 });
    const probe = status({ ready: false, probes: [{ name: 'rbd', status: 'fail', ok: false, durationMs: 1 }] });
    expect(judge({ kind: 'status', status: probe }, 't').reason).toBe('probe rbd failing');
    expect(judge({ kind: 'status', status: status({ desired: null, ready: false, converged: false }) }, 't')).toMatchObject({ health: 'healthy', reason: 'no desired state yet', generation: null });
  });

  it('converged/ready of a reconcile of an older generation do not count, whatever the clocks say', async () => {
    // timestamps say this reconcile started after the acceptance, but it ran for generation 3
    const older = status({ lastReconcile: { at: '2026-12-01T10:00:05.000Z', durationMs: 10, trigger: 'schedule', ok: true, generation: 3 } });
    expect(judge({ kind: 'status', status: older }, 't')).toEqual({ health: 'degraded', reason: 'generation 4 accepted, reconcile pending', generation: 4, converged: false, ready: false, at: 't' });
    // a reconcile of generation 4 counts even when its start time reads before the acceptance (clock steps, rounding)
    const skewed = status({ lastReconcile: { at: '2026-12-01T10:00:05.000Z', durationMs: 60_000, trigger: 'desired', ok: true, generation: 4 } });
    expect(judge({ kind: 'status', status: skewed }, 't')).toEqual({ health: 'healthy', reason: null, generation: 4, converged: true, ready: true, at: 't' });
    expect(judge({ kind: 'status', status: status({ lastReconcile: null }) }, 't')).toMatchObject({ health: 'degraded', converged: false });
  });

  it('errors are unreachable (keeping the last generation), 503 is degraded, never ready', async () => {
    const prev = judge({ kind: 'status', status: status() }, 't0');
    expect(judge({ kind: 'error', message: 'connect ECONNREFUSED' }, 't1', prev)).toEqual({ health: 'unreachable', reason: 'connect ECONNREFUSED', generation: 4, converged: false, ready: false, at: 't1' });
    expect(judge({ kind: 'http', status: 503, code: 'NW_RECOVERING', message: 'recovery pass' }, 't1')).toMatchObject({ health: 'degraded', reason: '503 NW_RECOVERING: recovery pass', ready: false });
  });

  it('the delay is the interval ±10 %, doubling per failure up to the cap', async () => {
    const d = (failures: number, random: number) => nextDelayMs({ intervalMs: 10_000, failures, maxBackoffMs: 60_000, random });
    expect([d(0, 0), d(0, 1), d(0, 0.5)]).toEqual([9000, 11_000, 10_000]);
    expect([d(1, 0.5), d(2, 0.5), d(3, 0.5), d(4, 0.5), d(30, 0.5)]).toEqual([10_000, 20_000, 40_000, 60_000, 60_000]);
  });
});

describe('controller.yaml and operator.yaml', () => {
  const minimal = 'stateDir: state\ntls: {cert: c.crt, key: c.key, ca: ca.crt}\ncaKeyFile: ca.key\nsigningKeyFile: s.key\n';
  it('relative paths are relative to the file; defaults are the documented ones', async () => {
    const c = parseControllerConfig(minimal, '/etc/nw/controller.yaml');
    expect(c).toMatchObject({ stateDir: '/etc/nw/state', tls: { cert: '/etc/nw/c.crt', ca: '/etc/nw/ca.crt' }, caKeyFile: '/etc/nw/ca.key', listen: { host: '127.0.0.1', port: 7700 }, url: 'https://127.0.0.1:7700' });
    expect(c.poll).toEqual({ intervalMs: 10_000, rolloutIntervalMs: 1000, timeoutMs: 5000, concurrency: 256, maxBackoffMs: 120_000 });
    expect(c.operatorRoles).toEqual(['operator']);
  });
  it('openstack: a named cloud turns the compute-node routes on; none by default', async () => {
    expect(parseControllerConfig(minimal, 'c.yaml').openstack).toBeNull();
    expect(parseControllerConfig(minimal + 'openstack: {cloud: lab, computeApiVersion: "2.53"}\n', 'c.yaml').openstack).toEqual({ cloud: 'lab', computeApiVersion: '2.53', mapIntervalMs: 300_000 });
    expect(() => parseControllerConfig(minimal + 'openstack: {cloud: lab, computeApiVersion: latest}\n', 'c.yaml')).toThrow(expect.objectContaining({ code: 'NW_CONFIG' }));
    expect(() => parseControllerConfig(minimal + 'openstack: {}\n', 'c.yaml')).toThrow(expect.objectContaining({ code: 'NW_CONFIG' }));
  });
  it('failureDomain: hypervisor by default with a cloud, else none; label:KEY; hypervisor without a cloud or a bad source is NW_CONFIG', async () => {
    expect(parseControllerConfig(minimal, 'c.yaml').failureDomain).toBe('none');
    expect(parseControllerConfig(minimal + 'openstack: {cloud: lab}\n', 'c.yaml').failureDomain).toBe('hypervisor');
    expect(parseControllerConfig(minimal + 'openstack: {cloud: lab, mapIntervalSec: 30}\n', 'c.yaml').openstack?.mapIntervalMs).toBe(30_000);
    expect(parseControllerConfig(minimal + 'openstack: {cloud: lab}\nfailureDomain: none\n', 'c.yaml').failureDomain).toBe('none');
    expect(parseControllerConfig(minimal + 'failureDomain: label:topology.kubernetes.io/zone\n', 'c.yaml').failureDomain).toBe('label:topology.kubernetes.io/zone');
    expect(() => parseControllerConfig(minimal + 'failureDomain: hypervisor\n', 'c.yaml')).toThrow(expect.objectContaining({ code: 'NW_CONFIG', message: expect.stringContaining('needs `openstack') }));
    expect(() => parseControllerConfig(minimal + 'failureDomain: rack\n', 'c.yaml')).toThrow(expect.objectContaining({ code: 'NW_CONFIG', message: expect.stringContaining('label:KEY') }));
  });
  it('retention, server limits and bundle lifetime: documented defaults, operators change them', async () => {
    const d = parseControllerConfig(minimal, 'c.yaml');
    expect(d.retention).toEqual({
      eventsMaxAgeMs: 90 * 86_400_000, eventsMaxCount: 1_000_000, generationsPerNode: 10, rolloutDetailMaxAgeMs: 7 * 86_400_000,
      rolloutDetailCount: 20, rolloutSummaryCount: 1000, batch: 5000, intervalMs: 3_600_000,
    });
    expect(d.server).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 300_000, idleTimeoutMs: 120_000, keepAliveTimeoutMs: 75_000, maxConnections: 4096, joinBurst: 10, joinRefillMs: 6000, renewBurst: 3, renewRefillMs: 600_000 });
    expect(d.bundleValidMs).toBe(24 * 3_600_000);
    const c = parseControllerConfig(
      minimal + 'retention: {eventsMaxAgeDays: 30, generationsPerNode: 3, rolloutCount: 50, intervalSec: 60}\nserver: {headersTimeoutSec: 2, maxConnections: 100, joinPerMinute: 2, renewBurst: 5, renewPerHour: 60}\nrollouts: {bundleValidHours: 6}\n',
      'c.yaml',
    );
    expect(c.retention).toMatchObject({ eventsMaxAgeMs: 30 * 86_400_000, generationsPerNode: 3, rolloutSummaryCount: 50, intervalMs: 60_000 });
    expect(c.server).toMatchObject({ headersTimeoutMs: 2000, handshakeTimeoutMs: 2000, maxConnections: 100, joinRefillMs: 30_000, renewBurst: 5, renewRefillMs: 60_000 });
    expect(c.bundleValidMs).toBe(6 * 3_600_000);
    expect(() => parseControllerConfig(minimal + 'retention: {generationsPerNode: 1}\n', 'c.yaml')).toThrow(expect.objectContaining({ code: 'NW_CONFIG' }));
    expect(() => parseControllerConfig(minimal + 'server: {maxConnections: 0}\n', 'c.yaml')).toThrow(expect.objectContaining({ code: 'NW_CONFIG' }));
    expect(() => parseControllerConfig(minimal + 'server: {renewBurst: 0}\n', 'c.yaml')).toThrow(expect.objectContaining({ code: 'NW_CONFIG' }));
    // two-minute certificates renew every 80 s: the default limit refills at least every 40 s; an explicit rate stays
    expect(parseControllerConfig(minimal + 'join: {certValidSeconds: 120}\n', 'c.yaml').server.renewRefillMs).toBe(40_000);
    expect(parseControllerConfig(minimal + 'join: {certValidSeconds: 120}\nserver: {renewPerHour: 6}\n', 'c.yaml').server.renewRefillMs).toBe(600_000);
  });
  it('unknown keys and missing files are NW_CONFIG', async () => {
    expect(() => parseControllerConfig(minimal + 'colour: red\n', 'c.yaml')).toThrow(expect.objectContaining({ code: 'NW_CONFIG' }));
    expect(() => parseControllerConfig('listen: 1.2.3.4:80\n', 'c.yaml')).toThrow(/NW_CONFIG|stateDir/);
    expect(() => parseControllerConfig(minimal + 'poll: {intervalSec: 0}\n', 'c.yaml')).toThrow(expect.objectContaining({ code: 'NW_CONFIG' }));
  });
  it('operator.yaml: https controller, paths relative to it; lookup order flag > env > home', async () => {
    expect(parseOperatorConfig('controller: https://h:7700\nca: ca.crt\ncert: o.crt\nkey: o.key\n', '/d/operator.yaml')).toEqual({ file: '/d/operator.yaml', controllers: ['https://h:7700'], ca: '/d/ca.crt', cert: '/d/o.crt', key: '/d/o.key' });
    expect(() => parseOperatorConfig('controller: http://h\nca: a\ncert: b\nkey: c\n', 'o.yaml')).toThrow(expect.objectContaining({ code: 'NW_CONFIG' }));
    expect(operatorConfigPath('/f', { NODEWRIGHT_OPERATOR_CONFIG: '/e' })).toBe('/f');
    expect(operatorConfigPath(undefined, { NODEWRIGHT_OPERATOR_CONFIG: '/e' })).toBe('/e');
    expect(operatorConfigPath(undefined, {})).toMatch(/\.config\/nodewright\/operator\.yaml$/);
  });
});

describe('fleet view (what the executor reads every tick)', () => {
  const rec = (name: string, group: string, generation: number | null = 1): NodeRecord => ({
    name, group, labels: {}, url: 'https://127.0.0.1:1', certSha256: 'c'.repeat(64), facts: { hostname: name, addresses: [] }, enrolledAt: 't0',
    health: 'healthy', reason: null, healthSince: 't0', lastSeenAt: 't1', generation, converged: true, ready: true,
  });

  it('starts from the stored records, then follows observations; a group is observed whole', async () => {
    const v = await FleetView.fromStore({ listNodes: async () => [rec('a', 'g1'), rec('b', 'g1'), rec('c', 'g2')] });
    expect(v.observationsAround(['a'])).toEqual({
      a: { health: 'healthy', reason: null, generation: 1, converged: true, ready: true, at: 't1' },
      b: { health: 'healthy', reason: null, generation: 1, converged: true, ready: true, at: 't1' },
    });
    v.observe('b', { health: 'degraded', reason: 'probe rbd failing', generation: 2, converged: true, ready: false, at: 't2' });
    v.observe('zz', { health: 'healthy', reason: null, generation: 9, converged: true, ready: true, at: 't2' }); // not enrolled: ignored
    expect(v.observationsAround(['a']).b).toMatchObject({ health: 'degraded', generation: 2 });
    expect(Object.keys(v.observationsAround(['a', 'c', 'zz'])).sort()).toEqual(['a', 'b', 'c']);
  });

  it('sync follows the inventory: removed nodes vanish, a regrouped node keeps its observation', async () => {
    const v = await FleetView.fromStore({ listNodes: async () => [rec('a', 'g1'), rec('b', 'g1')] });
    v.observe('b', { health: 'unreachable', reason: 'ECONNREFUSED', generation: 1, converged: false, ready: false, at: 't2' });
    v.sync([rec('b', 'g2', 5), rec('d', 'g2', null)]);
    expect(v.groupOf('a')).toBeUndefined();
    expect(v.observationsAround(['b'])).toEqual({
      b: { health: 'unreachable', reason: 'ECONNREFUSED', generation: 1, converged: false, ready: false, at: 't2' },
      d: { health: 'healthy', reason: null, generation: null, converged: true, ready: true, at: 't1' },
    });
    expect(v.observationsAround(['a'])).toEqual({});
  });

  it('its version moves when what it shows changes (an observation, membership, placement), not for a repeated poll', async () => {
    const v = await FleetView.fromStore({ listNodes: async () => [rec('a', 'g1'), rec('b', 'g1')] });
    const at = (t: string) => ({ health: 'healthy' as const, reason: null, generation: 1, converged: true, ready: true, at: t });
    let seen = v.version;
    const moved = () => {
      const m = v.version !== seen;
      seen = v.version;
      return m;
    };
    v.observe('a', at('t5'));
    expect(moved()).toBe(false); // the same observation, later
    v.observe('a', { ...at('t6'), health: 'degraded', reason: 'unit failed' });
    expect(moved()).toBe(true);
    v.sync([rec('a', 'g1'), rec('b', 'g1')]);
    expect(moved()).toBe(false);
    v.sync([rec('a', 'g1'), { ...rec('b', 'g1'), hypervisor: 'hv-1' }]);
    expect(moved()).toBe(true);
    v.sync([rec('a', 'g1'), { ...rec('b', 'g1'), hypervisor: 'hv-1', labels: { zone: 'z1' } }]);
    expect(moved()).toBe(true);
    v.sync([rec('a', 'g1')]);
    expect(moved()).toBe(true);
  });
});
