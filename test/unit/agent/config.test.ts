import { describe, expect, test } from 'vitest';
import { parseAgentConfig } from '../../../agent/config.js';

const err = (text: string) => {
  try {
    parseAgentConfig(text, '/etc/nodewright/agent.yaml');
  } catch (e) {
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  }
  return 'no error';
};

describe('agent.yaml', () => {
  test('defaults', () => {
    const c = parseAgentConfig('', 'a.yaml', 'w1');
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 7701 });
    expect(c.kubelet.healthUrl).toBe('http://127.0.0.1:10248/healthz');
    expect(c.kubelet.healthTimeoutMs).toBe(60_000);
    expect(c.stateDir).toBe('/var/lib/nodewright');
    expect(c.node).toBe('w1');
    expect(c.kubelet.minHealthyMs).toBe(10_000);
    expect(c.limits.artifactCacheKeep).toBe(2);
    expect(c.tls).toBeNull();
    expect(c.nodeGroup).toBeNull();
  });
  test('values', () => {
    const c = parseAgentConfig('listen: 0.0.0.0:9000\ntls: {cert: a.crt, key: a.key, ca: ca.crt}\nkubelet:\n  healthTimeoutSec: 5\n  minHealthySec: 2\nschedule:\n  reconcile: "*/2 * * * *"\n', 'a.yaml');
    expect(c.listen.port).toBe(9000);
    expect(c.kubelet.healthTimeoutMs).toBe(5000);
    expect(c.schedule.reconcile).toBe('*/2 * * * *');
    expect(parseAgentConfig('nodeGroup: workers-a\n', 'a.yaml').nodeGroup).toBe('workers-a');
    expect(err('\nnodeGroup: "workers a"\n')).toMatch(/^NW_CONFIG: \/etc\/nodewright\/agent.yaml:2: \/nodeGroup/);
  });
  test('minHealthySec must fit in healthTimeoutSec; test hooks are not configurable', () => {
    expect(err('kubelet:\n  healthTimeoutSec: 5\n')).toMatch(/^NW_CONFIG: \/etc\/nodewright\/agent.yaml:2: \/kubelet\/minHealthySec \(10 s\) must be shorter than kubelet.healthTimeoutSec \(5 s\)/);
    expect(err('kubelet:\n  healthTimeoutSec: 5\n  minHealthySec: 5\n')).toMatch(/agent.yaml:3: \/kubelet\/minHealthySec \(5 s\)/);
    expect(err('testHooks:\n  pauseAfterStageMs: 4000\n')).toMatch(/^NW_CONFIG: .*unknown or misplaced key/);
  });
  test('a wrong type names its line', () => {
    expect(err('listen: 127.0.0.1:7701\nkubelet:\n  healthTimeoutSec: soon\n')).toMatch(/^NW_CONFIG: \/etc\/nodewright\/agent.yaml:3: \/kubelet\/healthTimeoutSec/);
  });
  test('an unknown key names its line', () => {
    expect(err('listen: 127.0.0.1:7701\n\ndrift:\n  enabled: true\n  debounce: 5\n')).toMatch(/agent.yaml:(3|4|5): .*unknown or misplaced key/);
  });
  test('YAML syntax errors name the line', () => {
    expect(err('listen: 127.0.0.1:7701\nkubelet:\n  healthUrl: "http://x\n')).toMatch(/^NW_CONFIG: \/etc\/nodewright\/agent.yaml:\d+: YAML syntax error/);
  });
  test('a bad cron expression names its line', () => {
    expect(err('schedule:\n  probes: every minute\n')).toMatch(/agent.yaml:2: \/schedule\/probes: "every minute" is not a cron expression/);
  });
  test('relative file names are relative to the directory of agent.yaml', () => {
    const c = parseAgentConfig('tokenFile: token\npublicKeyFile: ../keys/controller.pub\ntls:\n  cert: tls/agent.crt\n  key: /secure/agent.key\n  ca: ca.crt\n', '/etc/nodewright/agent.yaml');
    expect(c.tokenFile).toBe('/etc/nodewright/token');
    expect(c.publicKeyFile).toBe('/etc/keys/controller.pub');
    expect(c.tls).toEqual({ cert: '/etc/nodewright/tls/agent.crt', key: '/secure/agent.key', ca: '/etc/nodewright/ca.crt' });
    expect(parseAgentConfig('', '/etc/nodewright/agent.yaml').tls).toBeNull();
  });
  test('nodeGroup and instanceUuid', () => {
    const c = parseAgentConfig('nodeGroup: ceph-a\ninstanceUuid: 0B7E5A2C-1F3D-4C59-9A57-2F0C1D9E8A11\n', 'a.yaml');
    expect(c.nodeGroup).toBe('ceph-a');
    expect(c.instanceUuid).toBe('0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11');
    expect(parseAgentConfig('', 'a.yaml').nodeGroup).toBeNull();
    expect(err('instanceUuid: not-a-uuid\n')).toMatch(/^NW_CONFIG: .*agent.yaml:1: \/instanceUuid/);
  });
  test('a non-loopback listen without tls is NW_CONFIG naming the line; loopback without tls is fine', () => {
    expect(err('log:\n  level: info\nlisten: 10.0.0.5:7701\n')).toMatch(/^NW_CONFIG: \/etc\/nodewright\/agent.yaml:3: \/listen: 10.0.0.5 is not a loopback address .*add tls:/);
    expect(err('listen: 0.0.0.0:7701\n')).toMatch(/^NW_CONFIG: .*not a loopback/);
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost']) expect(err(`listen: ${host}:7701\n`)).toBe('no error');
    expect(err('listen: 10.0.0.5:7701\ntls: {cert: c, key: k, ca: a}\n')).toBe('no error');
    expect(err('tls: {cert: c, key: k}\n')).toMatch(/^NW_CONFIG: .*\/tls/);
  });
  test('not a mapping', () => {
    expect(err('- a\n- b\n')).toMatch(/must be a mapping/);
  });
});
