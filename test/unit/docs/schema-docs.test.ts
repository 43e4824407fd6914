// The schemas' documentation tells the truth: every field has a description, and every
// `default` a schema states is the default the code applies.
import { Value } from '@sinclair/typebox/value';
import { describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { withDefaults as agentDefaults } from '../../../agent/config.js';
import { wantedPackages } from '../../../agent/steps/packages.js';
import { withDefaults as controllerDefaults } from '../../../controller/config.js';
import { resolveRolloutDesired, RolloutDesiredSchema } from '../../../controller/rollout/desired.js';
import { DEFAULT_STRATEGY, parseStrategy, StrategySchema } from '../../../controller/rollout/strategy.js';
import { DesiredStateSchema, kubeletInstallPath, unitName, type BinaryArtifact, type DesiredState } from '../../../protocol/desired.js';
import { PAGES } from '../../../tools/reference/pages.js';
import type { JsonSchema } from '../../../tools/reference/render.js';

/** Fields without a description, as dotted paths. */
function undocumented(s: JsonSchema, at = ''): string[] {
  const out: string[] = [];
  for (const [k, f] of Object.entries(s.properties ?? {})) {
    const p = at ? `${at}.${k}` : k;
    if (!f.description) out.push(p);
    if (f.properties) out.push(...undocumented(f, p));
    if (f.items?.properties) out.push(...undocumented(f.items, `${p}[]`));
    (f.anyOf ?? []).forEach((b, i) => b.properties && out.push(...undocumented(b, `${p}<${i}>`)));
  }
  return out;
}

/** A config that spells out every default the schema states (nested objects only when they carry one). */
function spelledOut(s: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(s.properties ?? {})) {
    if (f.default !== undefined) out[k] = f.default;
    else if (f.properties) {
      const inner = spelledOut(f);
      if (Object.keys(inner).length) out[k] = inner;
    }
  }
  return out;
}

const at = (s: JsonSchema, ...keys: string[]): JsonSchema => keys.reduce((x, k) => x.properties![k], s);

describe('schema documentation', () => {
  test.each(PAGES.map((p) => [p.title, p.schema] as const))('%s: every field has a description', (_t, schema) => {
    expect(schema.description).toBeTruthy();
    expect(undocumented(schema)).toEqual([]);
  });

  test('agent.yaml defaults in the schema are the ones the agent applies', async () => {
    const raw = spelledOut(PAGES.find((p) => p.file === 'agent-yaml.md')!.schema);
    expect(Object.keys(raw).length).toBeGreaterThan(5);
    expect(agentDefaults(raw, '/etc/nodewright/agent.yaml', 'h1')).toEqual(agentDefaults({}, '/etc/nodewright/agent.yaml', 'h1'));
  });

  test('controller.yaml defaults in the schema are the ones the controller applies', async () => {
    const required = { stateDir: 's', tls: { cert: 'c', key: 'k', ca: 'a' }, caKeyFile: 'ca.key', signingKeyFile: 'signing.key' };
    const raw = { ...spelledOut(PAGES.find((p) => p.file === 'controller-yaml.md')!.schema), ...required };
    expect(controllerDefaults(raw as never, '/etc/nw/controller.yaml')).toEqual(controllerDefaults(required, '/etc/nw/controller.yaml'));
  });

  test('strategy defaults in the schema are DEFAULT_STRATEGY', async () => {
    expect(parseStrategy(spelledOut(StrategySchema as JsonSchema) as never)).toEqual(DEFAULT_STRATEGY);
  });

  test('desired-state defaults in the schema are the ones the agent applies', async () => {
    const d = DesiredStateSchema as JsonSchema;
    expect(at(d, 'unit', 'name').default).toBe(unitName({} as DesiredState));
    expect(at(d, 'packages', 'names').default).toEqual(wantedPackages({} as DesiredState));
    const binary = at(d, 'kubelet').anyOf![0];
    expect(at(binary, 'installPath').default).toBe(kubeletInstallPath({} as BinaryArtifact));
  });

  test('the rollout desired YAML example of the reference fits its schema and resolves', async () => {
    const page = PAGES.find((p) => p.file === 'rollout-desired.md')!;
    const yaml = /```yaml\n([\s\S]*?)```/.exec(page.notes!.join('\n'))![1];
    const doc = parseYaml(yaml);
    expect([...Value.Errors(RolloutDesiredSchema, doc)].map((e) => `${e.path}: ${e.message}`)).toEqual([]);
    const artifacts = [{ kind: 'kubelet-binary', version: 'v1.10.4-nw.1', sha256: 'a'.repeat(64), size: 10 }] as never;
    const keyring = '[client.k8s]\n\tkey = AQCs2Q9bqAjCHRAAlQUF+hAiXhbErk4NdtvORQ==\n';
    const t = resolveRolloutDesired(doc, { artifacts, artifactBaseUrl: 'https://ctl:7700', baseDir: '/r', readFile: () => keyring });
    expect(t.ceph).toMatchObject({ keyring });
    expect(t.kubelet).toMatchObject({ kind: 'binary', sha256: 'a'.repeat(64), size: 10 });
    // what the schema leaves out, resolveRolloutDesired refuses
    expect(Value.Check(RolloutDesiredSchema, { ...doc, generation: 3 })).toBe(false);
    expect(() => resolveRolloutDesired({ ...doc, generation: 3 }, { artifacts, artifactBaseUrl: 'https://ctl:7700', baseDir: '/r', readFile: () => keyring })).toThrow(/generation/);
  });
});
