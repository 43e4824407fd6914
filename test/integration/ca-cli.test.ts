// `nodewright ca init` / `ca issue` as real processes: files and modes, no overwrite, a CSR made by
// openssl signed into a certificate openssl verifies, the role and name read back, bad input coded.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { caCertHash, identityOf } from '../../pki/index.js';
import { tempDir } from '../tmp.js';
import { CONTROLLER_CLI, requireBuild, runCli } from './agent/fixture.js';

const nodewright = (...args: string[]) => runCli(CONTROLLER_CLI, args);

describe('nodewright ca', () => {
  let dir: string;
  beforeAll(() => {
    requireBuild();
    dir = tempDir('nw-ca-cli-');
  }, 60_000);

  it('init writes ca.key 0600 and ca.crt, prints the CA hash, and refuses to overwrite', () => {
    const caDir = path.join(dir, 'ca');
    const r = nodewright('ca', 'init', '--dir', caDir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(statSync(path.join(caDir, 'ca.key')).mode & 0o777).toBe(0o600);
    const certPem = readFileSync(path.join(caDir, 'ca.crt'), 'utf8');
    expect(r.stdout).toContain(`caCertHash=${caCertHash(certPem)}`);
    const key = readFileSync(path.join(caDir, 'ca.key'), 'utf8');
    const again = nodewright('ca', 'init', '--dir', caDir);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^NW_EXISTS: /);
    expect(readFileSync(path.join(caDir, 'ca.key'), 'utf8')).toBe(key);
  });

  it('issue signs an openssl CSR: chain verifies, role and name in the subject, alt names from the CSR or flags', () => {
    const caDir = path.join(dir, 'ca');
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'w.key'),
      '-out', path.join(dir, 'w.csr'), '-subj', '/CN=whatever', '-addext', 'subjectAltName=DNS:w1.example,IP:10.0.0.7'], { stdio: 'ignore' });
    const out = path.join(dir, 'w.crt');
    const r = nodewright('ca', 'issue', '--csr', path.join(dir, 'w.csr'), '--role', 'agent', '--name', 'w1', '--dir', caDir, '--out', out);
    expect(r.code).toBe(0);
    const cert = new X509Certificate(readFileSync(out));
    expect(identityOf(cert)).toEqual({ name: 'w1', role: 'agent' });
    expect(cert.subjectAltName).toBe('DNS:w1.example, IP Address:10.0.0.7');
    expect(execFileSync('openssl', ['verify', '-CAfile', path.join(caDir, 'ca.crt'), out]).toString()).toMatch(/: OK/);

    const op = nodewright('ca', 'issue', '--csr', path.join(dir, 'w.csr'), '--role', 'operator', '--name', 'alice', '--dir', caDir, '--ip', '127.0.0.1');
    expect(op.code).toBe(0);
    const opCert = new X509Certificate(op.stdout);
    expect(identityOf(opCert)).toEqual({ name: 'alice', role: 'operator' });
    expect(opCert.subjectAltName).toBe('IP Address:127.0.0.1');
  });

  it('bad role, bad CSR and a missing CA are coded errors', () => {
    const caDir = path.join(dir, 'ca');
    writeFileSync(path.join(dir, 'junk.csr'), 'not a csr');
    expect(nodewright('ca', 'issue', '--csr', path.join(dir, 'w.csr'), '--role', 'root', '--name', 'x', '--dir', caDir).stderr).toMatch(/^NW_USAGE: /);
    expect(nodewright('ca', 'issue', '--csr', path.join(dir, 'junk.csr'), '--role', 'agent', '--name', 'x', '--dir', caDir).stderr).toMatch(/^NW_PKI: /);
    expect(nodewright('ca', 'issue', '--csr', path.join(dir, 'w.csr'), '--role', 'agent', '--name', 'x', '--dir', path.join(dir, 'none')).stderr).toMatch(/^NW_USAGE: cannot read CA/);
  });
});
