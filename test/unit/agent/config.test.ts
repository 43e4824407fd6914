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
  });
  test('values', () => {
    const c = parseAgentConfig('listen: 0.0.0.0:9000\nkubelet:\n  healthTimeoutSec: 5\n  minHealthySec: 2\nschedule:\n  reconcile: "*/2 * * * *"\n', 'a.yaml');
    expect(c.listen.port).toBe(9000);
    expect(c.kubelet.healthTimeoutMs).toBe(5000);
    expect(c.schedule.reconcile).toBe('*/2 * * * *');
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
  test('not a mapping', () => {
    expect(err('- a\n- b\n')).toMatch(/must be a mapping/);
  });
});
