// A kill -9 between a temp file's create and its rename leaves `.<name>.nw-<12 hex>` (or a staged
// download) next to a managed file; nothing removed them (bench R1 found 6 in 992 kills). The
// restarted agent's recovery pass removes them — only the agent's own names, never through a symlink.
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AGENT_CLI, KEYRING, desiredKeyringOnly, requireBuild, runCli, sandbox, type Sandbox } from './fixture.js';

let sb: Sandbox;
beforeAll(async () => {
  requireBuild();
  sb = await sandbox();
});
afterAll(() => sb?.cleanup());

describe('temp files a killed agent left', () => {
  test('the next run (recovery pass first) removes them; other dot files and what a symlink points to stay', () => {
    const f = path.join(sb.dir, 'b1.json');
    writeFileSync(f, JSON.stringify(sb.sign(desiredKeyringOnly(1))));
    const first = runCli(AGENT_CLI, ['apply', '--config', sb.config, '--bundle', f]);
    expect(first.code, first.stderr).toBe(0);
    // What a kill -9 mid-write leaves (host/fs.ts writeAtomic's names), plus things that are not ours.
    const torn = ['/etc/ceph/.ceph.client.k8s.keyring.nw-0123456789ab', '/etc/ceph/.ceph.conf.nw-abcdef012345', '/var/lib/nodewright/.state.json.nw-00ff00ff00ff'];
    for (const p of torn) writeFileSync(sb.real(p), '[client.k8s]\n\tkey = AQ', { mode: 0o600 });
    const precious = sb.real('/precious');
    writeFileSync(precious, 'not the agent\'s');
    symlinkSync(precious, sb.real('/etc/ceph/.ceph.conf.nw-fedcba987654'));
    const foreign = ['/etc/ceph/.keep-me', '/etc/ceph/.ceph.conf.nw-NOTHEX000000', '/etc/ceph/ceph.conf.nw-0123456789ab'];
    for (const p of foreign) writeFileSync(sb.real(p), 'x');
    mkdirSync(sb.real('/etc/ceph/.dir.nw-0123456789ab'));

    const again = runCli(AGENT_CLI, ['apply', '--config', sb.config, '--bundle', f]);
    expect(again.code, again.stderr).toBe(0);
    for (const p of torn) expect(existsSync(sb.real(p)), p).toBe(false);
    expect(() => lstatSync(sb.real('/etc/ceph/.ceph.conf.nw-fedcba987654'))).toThrow(); // the link went
    expect(readFileSync(precious, 'utf8')).toBe('not the agent\'s'); // not what it pointed to
    for (const p of foreign) expect(existsSync(sb.real(p)), p).toBe(true);
    expect(existsSync(sb.real('/etc/ceph/.dir.nw-0123456789ab'))).toBe(true);
    expect(again.stderr).toContain('recovery: removed 4 temp file(s) a stopped agent left');
    expect(readFileSync(sb.real('/etc/ceph/ceph.client.k8s.keyring'), 'utf8')).toBe(KEYRING);
  });
});
