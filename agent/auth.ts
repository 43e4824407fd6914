// What the HTTP face authenticates callers with, read and checked once at start:
// TLS with client certificates of the fleet CA, or (loopback without TLS only) the bearer token.
// Secret files must belong to the agent's uid and not be readable by group or others.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { NwError } from '../host/errors.js';
import { checkTlsMaterial } from '../pki/check.js';
import type { AgentConfig } from './config.js';

export type ServerAuth = { kind: 'tls'; certPem: string; keyPem: string; caPem: string } | { kind: 'token'; token: string };

const agentUid = () => process.getuid?.() ?? 0;

/** Read a key or token file after checking owner and mode (NW_CONFIG with the fix). */
export async function readSecretFile(file: string, what: string, uid = agentUid()): Promise<string> {
  let st;
  try {
    st = await stat(file);
  } catch (e) {
    throw new NwError('NW_CONFIG', `cannot read the ${what} ${file} (${(e as NodeJS.ErrnoException).code}): create it (mode 0600, owned by the agent's user)`);
  }
  if (st.uid !== uid) throw new NwError('NW_CONFIG', `the ${what} ${file} is owned by uid ${st.uid}, not the agent's uid ${uid}: chown ${uid} ${file}`);
  if (st.mode & 0o077) {
    throw new NwError('NW_CONFIG', `the ${what} ${file} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}, readable beyond its owner: chmod 0600 ${file}`);
  }
  return readFile(file, 'utf8');
}

async function readPublic(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new NwError('NW_TLS', `cannot read the ${what} ${file} (${(e as NodeJS.ErrnoException).code}): install it (tls: in agent.yaml; docs/pki.md)`);
  }
}

export async function readToken(file: string, uid = agentUid()): Promise<string> {
  const t = (await readSecretFile(file, 'auth token file', uid)).trim();
  if (t.length < 16) throw new NwError('NW_CONFIG', `the auth token in ${file} is shorter than 16 characters: use a long random token`);
  return t;
}

/**
 * A renewal writes the new key to KEY.next, then the certificate, then the key: when a crash left the
 * new certificate beside the old key, KEY.next is its key and is moved into place; a stale KEY.next
 * (the certificate was never replaced) is removed.
 */
export async function completeRenewal(certPem: string, keyFile: string): Promise<void> {
  const next = `${keyFile}.next`;
  let nextPem: string;
  try {
    nextPem = await readFile(next, 'utf8');
  } catch {
    return;
  }
  const fits = (() => {
    try {
      return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(nextPem));
    } catch {
      return false;
    }
  })();
  if (fits) await rename(next, keyFile);
  else await rm(next, { force: true });
}

export async function loadServerAuth(config: AgentConfig, uid = agentUid()): Promise<ServerAuth> {
  if (!config.tls) return { kind: 'token', token: await readToken(config.tokenFile, uid) };
  const { cert, key, ca } = config.tls;
  const [certPem, caPem] = await Promise.all([readPublic(cert, 'TLS certificate'), readPublic(ca, 'fleet CA certificate')]);
  await completeRenewal(certPem, key);
  const keyPem = await readSecretFile(key, 'TLS key', uid);
  checkTlsMaterial({ certPem, keyPem, caPem, files: { cert, key, ca } });
  return { kind: 'tls', certPem, keyPem, caPem };
}
