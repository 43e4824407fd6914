// Gate specs (strategy `gates:`) and the query gate's pass condition: parsed with messages naming
// the key, judged as plain data (no eval).
import { describe, expect, it } from 'vitest';
import { meets, parseCondition } from '../../../controller/rollout/condition.js';
import { gateName, parseGates } from '../../../controller/rollout/gates.js';
import { parseStrategy, strategyFromYaml } from '../../../controller/rollout/strategy.js';
import { parse as parseYaml } from 'yaml';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { strategyFromFlags, strategyInput } from '../../../controller/commands/rollout.js';
import { tempDir } from '../../tmp.js';

describe('pass conditions', () => {
  it('judges every sample; an empty vector reads as 0; len() counts samples', () => {
    const c = parseCondition('result == 0');
    expect(meets(c, [])).toBe(true);
    expect(meets(c, [0, 0])).toBe(true);
    expect(meets(c, [0, 1])).toBe(false);
    expect(meets(parseCondition('result < 5 && len(result) > 0'), [])).toBe(false);
    expect(meets(parseCondition('result < 5 && len(result) > 0'), [4.5])).toBe(true);
    expect(meets(parseCondition('result >= 10 || (result <= 1 && result != 0.5)'), [1])).toBe(true);
    expect(meets(parseCondition('result >= 10 || (result <= 1 && result != 0.5)'), [0.5])).toBe(false);
    expect(meets(parseCondition('result > -1e3'), [Number.NaN])).toBe(false);
  });

  it.each([
    ['', 'it is empty'],
    ['result', 'where a comparison'],
    ['result = 0', 'unexpected "= 0"'],
    ['result == abc', 'unexpected "abc"'],
    ['(result == 0', 'is not closed'],
    ['result == 0 result', 'is left over'],
    ['process.exit() == 0', 'unexpected "process.exit() == 0"'],
  ])('refuses %j', (text, why) => {
    expect(() => parseCondition(text, 'gates[0].prometheus.pass')).toThrow(expect.objectContaining({ code: 'NW_USAGE', message: expect.stringContaining(why) }));
  });
});

describe('gate specs', () => {
  it('reads the contract YAML with defaults', () => {
    const doc = parseYaml(`
gates:
  - cephHealth: { allow: [HEALTH_OK], ignore: [OSDMAP_FLAGS], cleanPgs: false }
  - prometheus: { url: http://127.0.0.1:9090, alerts: "^Nodewright|^Ceph", firingOnly: true }
  - prometheus: { url: http://127.0.0.1:9090, query: 'sum(up{job="ceph"} == 0)', pass: "result == 0" }
gateFailure: pause
gateWaitTimeout: 10m
`);
    const s = strategyFromYaml(doc);
    expect(s.gates).toEqual([
      { cephHealth: { allow: ['HEALTH_OK'], ignore: ['OSDMAP_FLAGS'], cleanPgs: false } },
      { prometheus: { url: 'http://127.0.0.1:9090', alerts: '^Nodewright|^Ceph', firingOnly: true } },
      { prometheus: { url: 'http://127.0.0.1:9090', query: 'sum(up{job="ceph"} == 0)', pass: 'result == 0' } },
    ]);
    expect(s.gates!.map(gateName)).toEqual(['cephHealth', 'prometheus alerts ^Nodewright|^Ceph', 'prometheus query sum(up{job="ceph"} == 0)']);
    expect(s).toMatchObject({ gateFailure: 'pause', gateWaitTimeoutMs: 600_000 });
    expect(parseStrategy({})).toMatchObject({ gates: [], gateFailure: 'wait', gateWaitTimeoutMs: 3_600_000 });
    expect(parseGates([{ cephHealth: null }])).toEqual([{ cephHealth: { allow: ['HEALTH_OK'], ignore: [], cleanPgs: false } }]);
  });

  it.each([
    [[{ ceph: {} }], 'gates[0]: "ceph" is not a gate'],
    [[{ cephHealth: { allow: ['OK'] } }], 'gates[0].cephHealth.allow: "OK" is not one of'],
    [[{ cephHealth: { allow: [] } }], 'allow is empty'],
    [[{ prometheus: { url: 'http://p:9090' } }], 'give either alerts'],
    [[{ prometheus: { url: 'http://p:9090', alerts: 'a', query: 'up' } }], 'not both'],
    [[{ prometheus: { url: 'http://p:9090', alerts: '(' } }], 'is not a regular expression'],
    [[{ prometheus: { url: 'http://p:9090', query: 'up' } }], 'pass is missing'],
    [[{ prometheus: { url: 'http://p:9090', query: 'up', pass: 'up == 1' } }], 'gates[0].prometheus.pass "up == 1"'],
    [[{ prometheus: { url: 'http://u:secret@p:9090', alerts: 'a' } }], 'carries credentials'],
    [[{ prometheus: { url: 'ftp://p', alerts: 'a' } }], 'must be http:// or https://'],
    [[{ prometheus: { url: 'http://p:9090', alerts: 'a', tls: { certFile: '/c' } } }], 'certFile and keyFile go together'],
  ])('refuses %j', (gates, why) => {
    expect(() => parseStrategy({ gates })).toThrow(expect.objectContaining({ code: 'NW_USAGE', message: expect.stringContaining(why) }));
  });

  it('refuses a bad gateFailure', () => {
    expect(() => parseStrategy({ gateFailure: 'ignore' })).toThrow(/gateFailure "ignore" must be wait or pause/);
  });
});

describe('rollout start --strategy FILE and the gate flags', () => {
  const file = (text: string) => {
    const dir = tempDir('nw-strategy-');
    writeFileSync(path.join(dir, 'strategy.yaml'), text);
    return path.join(dir, 'strategy.yaml');
  };

  it('reads the file; flags beside it override its keys, gate flags replace its gates', async () => {
    const f = file('steps: 1,2\nonFailure: halt\nautoRollback: false\ngates:\n  - cephHealth: { ignore: [OSDMAP_FLAGS] }\n');
    expect(await strategyInput({ strategy: f, onFailure: 'skip' })).toEqual({ steps: '1,2', onFailure: 'skip', autoRollback: false, gates: [{ cephHealth: { ignore: ['OSDMAP_FLAGS'] } }] });
    expect((await strategyInput({ strategy: f, gatePrometheus: 'http://127.0.0.1:9090', gateAlerts: '^Ceph', gateCephHealth: true })).gates).toEqual([
      { cephHealth: {} },
      { prometheus: { url: 'http://127.0.0.1:9090', alerts: '^Ceph' } },
    ]);
  });

  it('names the file in a mistake, and a half gate flag', async () => {
    await expect(strategyInput({ strategy: file('gates:\n  - prometheus: { url: http://p, alerts: "(" }\n') })).rejects.toThrow(/strategy\.yaml: gates\[0\]\.prometheus\.alerts "\(" is not a regular expression/);
    await expect(strategyInput({ strategy: file('- a\n') })).rejects.toThrow(/the strategy must be a mapping/);
    await expect(strategyInput({ strategy: '/nonexistent/s.yaml' })).rejects.toThrow(/cannot read the strategy file \/nonexistent\/s.yaml \(ENOENT\)/);
    expect(() => strategyFromFlags({ gateAlerts: '^Ceph' })).toThrow(/--gate-alerts needs --gate-prometheus/);
    expect(() => strategyFromFlags({ gatePrometheus: 'http://p' })).toThrow(/--gate-prometheus needs --gate-alerts/);
  });
});
