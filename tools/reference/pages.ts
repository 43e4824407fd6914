// The documented schemas. Documentation code is the one place that may import both the agent's
// and the controller's schemas (DESIGN.md: agent and controller never import each other).
import { AgentConfigSchema } from '../../agent/config.js';
import { ControllerConfigSchema } from '../../controller/config.js';
import { RolloutDesiredSchema } from '../../controller/rollout/desired.js';
import { StrategySchema } from '../../controller/rollout/strategy.js';
import { DesiredStateSchema } from '../../protocol/desired.js';
import { renderIndex, renderPage, type JsonSchema, type ReferencePage } from './render.js';

export const REFERENCE_DIR = 'docs/reference';

export const PAGES: ReferencePage[] = [
  {
    file: 'agent-yaml.md',
    title: 'agent.yaml',
    source: '`agent/config.ts` (`AgentConfigSchema`)',
    schema: AgentConfigSchema as JsonSchema,
    notes: [
      'Read by `nodewright-agent run|plan|apply --config FILE` (default `/etc/nodewright/agent.yaml`; the package installs a commented one there only if none exists). `nodewright-agent join … --config-out FILE` writes a complete one (`listen`, `publicKeyFile`, `tls`). Errors are `NW_CONFIG` naming `file:line` and the key. Checked besides the schema: a non-loopback `listen` needs `tls:`; `kubelet.minHealthySec` < `kubelet.healthTimeoutSec`; `schedule.*` look like cron expressions; at start, key and token files must be 0600 and owned by the agent. More: [docs/agent.md](../agent.md).',
    ],
  },
  {
    file: 'controller-yaml.md',
    title: 'controller.yaml',
    source: '`controller/config.ts` (`ControllerConfigSchema`)',
    schema: ControllerConfigSchema as JsonSchema,
    notes: [
      'Read by `nodewright controller run --config FILE`; `nodewright init --dir D` writes a commented one with every required key. Errors are `NW_CONFIG` naming the key. More: [docs/controller.md](../controller.md).',
    ],
  },
  {
    file: 'desired-state.md',
    title: 'Desired state (signed)',
    source: '`protocol/desired.ts` (`DesiredStateSchema`)',
    schema: DesiredStateSchema as JsonSchema,
    notes: [
      'The `desired` of a signed bundle `{kind: "nodewright.bundle/v1", desired, signature}` that `POST /v1/desired`, `nodewright-agent plan|apply --bundle` and `nodewright bundle sign|verify|push` take (YAML or JSON). Every string that reaches a file, a unit or argv has a pattern; a bundle that breaks one is `NW_BUNDLE` naming the field. The acceptance rules (generation, `notAfter`, `nodeGroup`/`nodes`) are in [docs/agent.md](../agent.md#generations-replay-and-rollback).',
    ],
  },
  {
    file: 'rollout-desired.md',
    title: 'Rollout desired-state YAML',
    source: '`controller/rollout/desired.ts` (`RolloutDesiredSchema`, built from `protocol/desired.ts`)',
    schema: RolloutDesiredSchema as JsonSchema,
    notes: [
      'Used as `nodewright rollout start --group G --desired FILE`. The controller resolves it into the [signed desired state](desired-state.md) of each node: `ceph.keyring` from `ceph.keyringFile`, a binary kubelet\'s sha256/size/url/signature from its artifact store, then `schema: 1`, the node\'s next generation, `nodeGroup` and `nodes: [name]`. Bad input is `NW_USAGE` (an unknown kubelet version `NW_NOT_FOUND`). More: [docs/rollout.md](../rollout.md#artifacts-and-the-rollouts-desired-yaml).',
      '```yaml\nruntime: rkt\nceph: { fsid: 0d4e2c5a-6b1f-4c59-9a57-2f0c1d9e8a11, monHost: [10.0.0.5:6789], clientId: k8s, keyringFile: k8s.keyring }\nunit:\n  bindMounts:\n    - { name: ceph-keyring, source: /etc/ceph/ceph.client.k8s.keyring, target: /etc/ceph/ceph.client.k8s.keyring, readOnly: true }\nkubelet: { kind: binary, version: v1.10.4-nw.1 }\nprobes: { rbd: { pool: kube }, quota: { path: /kubernetes/nw-probe } }\n```',
    ],
  },
  {
    file: 'rollout-strategy.md',
    title: 'Rollout strategy',
    source: '`controller/rollout/strategy.ts` (`StrategySchema`; values checked by `parseStrategy`)',
    schema: StrategySchema as JsonSchema,
    notes: [
      'Given as `nodewright rollout start` flags (named in each description), as the `strategy` object of `POST /v1/rollouts`, or as a `strategy:` mapping in YAML (`strategyFromYaml`). Safe defaults: one node at a time, no failure tolerated, pause on failure, automatic rollback. How the engine applies them: [docs/rollout.md](../rollout.md).',
    ],
  },
];

/** Every file of docs/reference/ as the generator makes it now: name → content. */
export function referenceFiles(): Map<string, string> {
  const files = new Map<string, string>();
  files.set('README.md', renderIndex(PAGES));
  for (const p of PAGES) files.set(p.file, renderPage(p));
  return files;
}
