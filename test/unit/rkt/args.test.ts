import { describe, expect, test } from 'vitest';
import { ensureBindMount, parseRktArgs } from '../../../rkt/args.js';

const M = { name: 'ceph-keyring', source: '/etc/ceph/k', target: '/etc/ceph/k' };

describe('parseRktArgs', () => {
  test('both flag forms, other tokens kept in order with their separators', () => {
    const v = '--uuid-file-save=/u  --volume a,kind=host,source=/x,readOnly=true --mount=volume=a,target=/y\t--net=host';
    const a = parseRktArgs(v);
    expect(a.parts.join('')).toBe(v);
    expect(a.volumes.map((x) => [x.name, x.joined, x.fields])).toEqual([
      ['a', false, [{ key: '', value: 'a' }, { key: 'kind', value: 'host' }, { key: 'source', value: '/x' }, { key: 'readOnly', value: 'true' }]],
    ]);
    expect(a.mounts.map((x) => [x.volume, x.target, x.joined])).toEqual([['a', '/y', true]]);
  });
});

describe('ensureBindMount', () => {
  test('absent: the pair is added, in the separator style of the last flag', () => {
    expect(ensureBindMount('--net=host', M)).toEqual({
      value: '--net=host --volume ceph-keyring,kind=host,source=/etc/ceph/k --mount volume=ceph-keyring,target=/etc/ceph/k',
      changed: true,
      summary: 'added --volume ceph-keyring,kind=host,source=/etc/ceph/k and --mount volume=ceph-keyring,target=/etc/ceph/k',
    });
    expect(ensureBindMount('', M).value).toBe('--volume ceph-keyring,kind=host,source=/etc/ceph/k --mount volume=ceph-keyring,target=/etc/ceph/k');
    expect(ensureBindMount('--volume a,kind=host,source=/a    --mount volume=a,target=/a', M).value).toBe(
      '--volume a,kind=host,source=/a    --mount volume=a,target=/a    --volume ceph-keyring,kind=host,source=/etc/ceph/k    --mount volume=ceph-keyring,target=/etc/ceph/k',
    );
  });
  test('a spec it must rewrite with a malformed field (`=target=…`): refused, and the printed value keeps the field verbatim', () => {
    const v = '--volume ceph-keyring,kind=host,source=/etc/ceph/k --mount volume=ceph-keyring,=target=/etc,x';
    expect(parseRktArgs(v).parts.join('')).toBe(v);
    expect(() => ensureBindMount(v, M)).toThrow(expect.objectContaining({ code: 'NW_UNIT_EDIT', message: expect.stringContaining('"=target=/etc"') }));
    expect(() => ensureBindMount('--volume ceph-keyring,kind=empty,readOnly,source=/etc/ceph/k', M)).toThrow(expect.objectContaining({ code: 'NW_UNIT_EDIT' }));
    // Malformed but already what we want: left alone.
    const ok = '--volume ceph-keyring,kind=host,source=/etc/ceph/k,=x --mount volume=ceph-keyring,target=/etc/ceph/k';
    expect(ensureBindMount(ok, M)).toMatchObject({ value: ok, changed: false });
  });
  test('present and equal: no change', () => {
    const v = '--volume=ceph-keyring,kind=host,source=/etc/ceph/k --mount=volume=ceph-keyring,target=/etc/ceph/k';
    expect(ensureBindMount(v, M)).toMatchObject({ value: v, changed: false, summary: expect.stringMatching(/^already present/) });
  });
  test('different source, kind, target or readOnly: corrected in place, other fields kept', () => {
    expect(ensureBindMount('--volume ceph-keyring,kind=empty,source=/old,recursive=true --mount volume=ceph-keyring,target=/old', { ...M, readOnly: true }).value).toBe(
      '--volume ceph-keyring,kind=host,source=/etc/ceph/k,recursive=true,readOnly=true --mount volume=ceph-keyring,target=/etc/ceph/k',
    );
  });
  test('only the volume present: the mount is added', () => {
    expect(ensureBindMount('--volume ceph-keyring,kind=host,source=/etc/ceph/k', M).value).toBe(
      '--volume ceph-keyring,kind=host,source=/etc/ceph/k --mount volume=ceph-keyring,target=/etc/ceph/k',
    );
  });
  test('conflicts: target under another name, duplicate volume, duplicate mount', () => {
    expect(() => ensureBindMount('--mount volume=other,target=/etc/ceph/k', M)).toThrow(expect.objectContaining({ code: 'NW_RKT_CONFLICT' }));
    expect(() => ensureBindMount('--volume ceph-keyring,kind=host,source=/a --volume ceph-keyring,kind=host,source=/b', M)).toThrow(/declared 2 times/);
    expect(() => ensureBindMount('--mount volume=ceph-keyring,target=/etc/ceph/k --mount volume=ceph-keyring,target=/etc/ceph/k', M)).toThrow(/2 times/);
  });
});

describe('malformed arguments (found by the fuzzer)', () => {
  test('a final --mount/--volume without its value is refused, not completed with our pair', () => {
    expect(() => ensureBindMount('--volume dns,kind=host,source=/etc/resolv.conf --mount', M)).toThrow(
      expect.objectContaining({ code: 'NW_UNIT_EDIT', message: expect.stringMatching(/end with --mount and no value/) }),
    );
    expect(() => ensureBindMount('--volume', M)).toThrow(/--volume and no value/);
  });
});
