// Each unit shape the issue lists, with the exact bytes we write.
import { describe, expect, test } from 'vitest';
import { planUnitBindMount } from '../../../rkt/unit-bind-mount.js';
import { effectiveEnvironment } from '../../../systemd/environment.js';
import { NwError } from '../../../host/errors.js';
import { CEPH_KEYRING, fixture } from '../../fixtures/units/index.js';
import type { UnitSources } from '../../../systemd/sources.js';

const D = '/etc/systemd/system';
const src = (f: string) => fixture(f).at(D);
const after = (s: UnitSources, path = s.main.path) => {
  const p = planUnitBindMount(s, CEPH_KEYRING);
  return { plan: p, text: p.changes.find((c) => c.path === path)?.after };
};
const inline = (text: string) => ({ main: { path: `${D}/k.service`, text }, dropIns: [] });
const KEYRING_VOLUME = '--volume ceph-keyring,kind=host,source=/etc/ceph/ceph.client.k8s.keyring';
const KEYRING_MOUNT = '--mount volume=ceph-keyring,target=/etc/ceph/ceph.client.k8s.keyring';

describe('planUnitBindMount on each unit shape', () => {
  test("the seed's kubelet.service as written: NW_UNIT_PARSE with file:line:col, nothing planned", () => {
    let err: unknown;
    try {
      planUnitBindMount(fixture('seed-kubelet.service').at(D, 'kubelet.service'), CEPH_KEYRING);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NwError);
    expect((err as NwError).code).toBe('NW_UNIT_PARSE');
    expect((err as NwError).message).toMatch(/^\/etc\/systemd\/system\/kubelet\.service:9:13: /);
  });

  test("the seed's unit with its quote closed (keyring already there): already present, no change", () => {
    const { plan } = after(src('seed-kubelet-closed.service'));
    expect(plan.changes).toEqual([]);
    expect(plan.summary).toMatch(/already present/);
  });

  test("the seed's unit before the manual edit, quote closed: the pair is added on new continued lines", () => {
    const s = src('seed-kubelet-before.service');
    const { text } = after(s);
    expect(text).toBe(
      s.main.text.replace(
        '--mount volume=lib-modules,target=/lib/modules"\n',
        `--mount volume=lib-modules,target=/lib/modules \\\n${KEYRING_VOLUME} \\\n${KEYRING_MOUNT}"\n`,
      ),
    );
  });

  test('indented continuation layout (lab kubelet.service) is kept', () => {
    const s = src('lab-kubelet.service');
    expect(after(s).text).toBe(
      s.main.text.replace(
        '  --mount volume=dns,target=/etc/resolv.conf"\n',
        `  --mount volume=dns,target=/etc/resolv.conf \\\n  ${KEYRING_VOLUME} \\\n  ${KEYRING_MOUNT}"\n`,
      ),
    );
  });

  test('RKT_OPTS (older wrapper), one line, each flag in its own form', () => {
    const s = src('rkt-opts.service');
    const { plan, text } = after(s);
    expect(plan.variable).toBe('RKT_OPTS');
    expect(text).toBe(
      s.main.text.replace(
        '--mount volume=resolv,target=/etc/resolv.conf"',
        `--mount volume=resolv,target=/etc/resolv.conf --volume=ceph-keyring,kind=host,source=/etc/ceph/ceph.client.k8s.keyring ${KEYRING_MOUNT}"`,
      ),
    );
  });

  test('--volume= / --mount= form, 4-space continuation', () => {
    const s = src('volume-eq-form.service');
    expect(after(s).text).toBe(
      s.main.text.replace(
        '    --mount=volume=cni-bin,target=/opt/cni/bin"',
        '    --mount=volume=cni-bin,target=/opt/cni/bin \\\n    --volume=ceph-keyring,kind=host,source=/etc/ceph/ceph.client.k8s.keyring \\\n    --mount=volume=ceph-keyring,target=/etc/ceph/ceph.client.k8s.keyring"',
      ),
    );
  });

  test('several assignments on one line: only the RKT_RUN_ARGS word changes', () => {
    const s = src('several-on-one-line.service');
    expect(after(s).text).toBe(
      s.main.text.replace('target=/etc/resolv.conf"', `target=/etc/resolv.conf ${KEYRING_VOLUME} ${KEYRING_MOUNT}"`),
    );
  });

  test('a value that starts with \\-newline', () => {
    const s = src('value-starts-continuation.service');
    expect(after(s).text).toBe(
      s.main.text.replace('  --mount volume=var-log,target=/var/log"', `  --mount volume=var-log,target=/var/log \\\n  ${KEYRING_VOLUME} \\\n  ${KEYRING_MOUNT}"`),
    );
  });

  test('readOnly: present and equal is no change; --read-only on a writable volume corrects it in place', () => {
    expect(planUnitBindMount(src('read-only.service'), { ...CEPH_KEYRING, readOnly: true }).changes).toEqual([]);
    const s = src('read-only.service');
    const p = planUnitBindMount(s, { ...CEPH_KEYRING, readOnly: false });
    expect(p.changes[0].after).toBe(s.main.text.replace('readOnly=true', 'readOnly=false'));
    expect(p.summary).toMatch(/corrected --volume/);
  });

  test('a drop-in overriding the main unit: the drop-in that wins is edited, the main unit is not', () => {
    const s = src('dropin-override.service');
    const p = planUnitBindMount(s, CEPH_KEYRING);
    expect(p.changes.map((c) => c.path)).toEqual([`${D}/dropin-override.service.d/50-ceph-keyring.conf`]);
    expect(p.changes[0].after).toBe(
      s.dropIns[1].text.replace('  --mount volume=dns,target=/etc/resolv.conf"', `  --mount volume=dns,target=/etc/resolv.conf \\\n  ${KEYRING_VOLUME} \\\n  ${KEYRING_MOUNT}"`),
    );
  });

  test('a drop-in that clears Environment=: RKT_RUN_ARGS is created after its last Environment= line', () => {
    const s = src('dropin-reset.service');
    const p = planUnitBindMount(s, CEPH_KEYRING);
    expect(p.changes.map((c) => c.path)).toEqual([`${D}/dropin-reset.service.d/override.conf`]);
    expect(p.changes[0].after).toBe(`[Service]\nEnvironment=\nEnvironment=C=3\nEnvironment="RKT_RUN_ARGS=${KEYRING_VOLUME} ${KEYRING_MOUNT}"\n`);
  });

  test('neither variable: RKT_RUN_ARGS is created in [Service]', () => {
    const s = src('no-rkt.service');
    const p = planUnitBindMount(s, CEPH_KEYRING);
    expect(p.variable).toBe('RKT_RUN_ARGS');
    expect(p.changes[0].after).toBe(s.main.text.replace('Restart=always\n', `Restart=always\nEnvironment="RKT_RUN_ARGS=${KEYRING_VOLUME} ${KEYRING_MOUNT}"\n`));
  });

  test('no [Service] section at all: one is appended', () => {
    const p = planUnitBindMount(inline('[Unit]\nDescription=x'), CEPH_KEYRING);
    expect(p.changes[0].after).toBe(`[Unit]\nDescription=x\n\n[Service]\nEnvironment="RKT_RUN_ARGS=${KEYRING_VOLUME} ${KEYRING_MOUNT}"\n`);
  });

  test('both variables: RKT_RUN_ARGS is preferred', () => {
    const p = planUnitBindMount(inline('[Service]\nEnvironment=RKT_OPTS=--net=host RKT_RUN_ARGS=--net=host\n'), CEPH_KEYRING);
    expect(p.variable).toBe('RKT_RUN_ARGS');
    expect(effectiveEnvironment({ main: { path: `${D}/k.service`, text: p.changes[0].after }, dropIns: [] }).vars.RKT_OPTS.value).toBe('--net=host');
  });

  test('an unquoted value gains quotes only around what needs them', () => {
    const p = planUnitBindMount(inline('[Service]\nEnvironment=RKT_RUN_ARGS=--net=host\n'), CEPH_KEYRING);
    expect(p.changes[0].after).toBe(`[Service]\nEnvironment=RKT_RUN_ARGS=--net=host" ${KEYRING_VOLUME} ${KEYRING_MOUNT}"\n`);
  });

  test('a different source is corrected in place, keeping the position', () => {
    const s = inline('[Service]\nEnvironment="RKT_RUN_ARGS=--volume ceph-keyring,kind=host,source=/old \\\n  --mount volume=ceph-keyring,target=/etc/ceph/ceph.client.k8s.keyring \\\n  --net=host"\n');
    const p = planUnitBindMount(s, CEPH_KEYRING);
    expect(p.changes[0].after).toBe(s.main.text.replace('source=/old', 'source=/etc/ceph/ceph.client.k8s.keyring'));
  });

  test('the same target under another volume name is a conflict, not a duplicate', () => {
    const s = inline('[Service]\nEnvironment="RKT_RUN_ARGS=--volume keyring,kind=host,source=/k --mount volume=keyring,target=/etc/ceph/ceph.client.k8s.keyring"\n');
    expect(() => planUnitBindMount(s, CEPH_KEYRING)).toThrow(/target \/etc\/ceph\/ceph\.client\.k8s\.keyring is already mounted from volume "keyring"/);
  });

  test('bad input is NW_USAGE', () => {
    expect(() => planUnitBindMount(inline('[Service]\n'), { ...CEPH_KEYRING, name: 'Bad Name' })).toThrow(/volume name/);
    expect(() => planUnitBindMount(inline('[Service]\n'), { ...CEPH_KEYRING, source: 'relative' })).toThrow(/absolute path/);
    expect(() => planUnitBindMount(inline('[Service]\n'), { ...CEPH_KEYRING, target: '/a b' })).toThrow(/absolute path/);
  });
});

describe('new assignments never land inside a continuation', () => {
  test('after a last line that ends in \\ at the end of the file, an empty line ends it first', () => {
    const s = inline('[Service]\nEnvironment=LAST=1 \\\n');
    const p = planUnitBindMount(s, CEPH_KEYRING);
    expect(p.changes[0].after).toBe(`[Service]\nEnvironment=LAST=1 \\\n\nEnvironment="RKT_RUN_ARGS=${KEYRING_VOLUME} ${KEYRING_MOUNT}"\n`);
    const env = effectiveEnvironment({ main: { path: s.main.path, text: p.changes[0].after }, dropIns: [] }).vars;
    expect(env.LAST.value).toBe('1');
  });
  test('a file without a final newline gets one before the new line', () => {
    const p = planUnitBindMount(inline('[Service]\nEnvironment=A=1'), CEPH_KEYRING);
    expect(p.changes[0].after).toBe(`[Service]\nEnvironment=A=1\nEnvironment="RKT_RUN_ARGS=${KEYRING_VOLUME} ${KEYRING_MOUNT}"\n`);
  });
});
