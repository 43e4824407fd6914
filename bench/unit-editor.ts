// Speed of the unit editor on the lab's kubelet.service: parse + effective environment + bind-mount
// plan (+ diff), compared with the lab demo's regex edit (agent-edit-demo.js) as a baseline.
//   node dist/bench/unit-editor.js
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { median } from './lib.js';
import { planUnitBindMount } from '../rkt/unit-bind-mount.js';
import { unifiedDiff } from '../systemd/diff.js';

const M = { name: 'ceph-keyring', source: '/etc/ceph/ceph.client.k8s.keyring', target: '/etc/ceph/ceph.client.k8s.keyring' };

function regexEdit(text: string): string {
  const re = /^Environment="RKT_RUN_ARGS=((?:[^"\n]*\\\n)*[^"\n]*)"$/m;
  const m = text.match(re);
  if (!m || m[1].includes('ceph-keyring')) return text;
  const add = [`--volume ${M.name},kind=host,source=${M.source}`, `--mount volume=${M.name},target=${M.target}`];
  return text.replace(re, 'Environment="RKT_RUN_ARGS=' + m[1] + ' \\\n' + add.map((a) => '  ' + a).join(' \\\n') + '"');
}

function perOpUs(fn: () => void, n = 2000): number {
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    runs.push(((performance.now() - t0) * 1000) / n);
  }
  return median(runs);
}

export function run(): { editorUs: number; baselineUs: number } {
  const text = readFileSync(path.resolve('test/fixtures/units/lab-kubelet.service'), 'utf8');
  const src = { main: { path: '/etc/systemd/system/kubelet.service', text }, dropIns: [] };
  const editorUs = perOpUs(() => {
    const p = planUnitBindMount(src, M);
    for (const c of p.changes) unifiedDiff(c.path, c.before, c.after);
  });
  const baselineUs = perOpUs(() => void regexEdit(text));
  return { editorUs, baselineUs };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = run();
  console.log(`unit-editor plan+diff=${r.editorUs.toFixed(1)} us/op, regex baseline=${r.baselineUs.toFixed(1)} us/op, ratio=${(r.editorUs / r.baselineUs).toFixed(1)}x`);
}
