// Release signatures: every artifact `npm run package` writes gets ARTIFACT.sig, a detached raw
// ed25519 signature (64 bytes) over the whole file, made with the release key named by
// $NODEWRIGHT_RELEASE_KEY (a PEM file from `npm run release-key`, i.e. `nodewright keygen`).
// Raw ed25519 over the file is exactly what `openssl pkeyutl -verify -rawin` checks, so a host with
// OpenSSL 3 and no Node verifies a tarball before unpacking it (install.sh --trust-key).
import { sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { NwError } from '../host/errors.js';
import { loadPrivateKey } from '../protocol/keys.js';

export const RELEASE_KEY_ENV = 'NODEWRIGHT_RELEASE_KEY';
export const sigFile = (artifact: string): string => `${artifact}.sig`;

/** The release key named by $NODEWRIGHT_RELEASE_KEY, or null when unset (an unsigned build). */
export function releaseKey(env: NodeJS.ProcessEnv = process.env): KeyObject | null {
  const file = env[RELEASE_KEY_ENV];
  if (!file) return null;
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (e) {
    throw new NwError('NW_USAGE', `${RELEASE_KEY_ENV}=${file}: cannot read the release key (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): make one with \`npm run release-key -- --out FILE\``);
  }
  return loadPrivateKey(pem);
}

/** Write ARTIFACT.sig (atomically) for each artifact; with no key, remove stale ones so an unsigned build carries no signature. */
export function signArtifacts(key: KeyObject | null, artifacts: string[]): string[] {
  for (const a of artifacts) {
    const sig = sigFile(a);
    if (!key) {
      rmSync(sig, { force: true });
      continue;
    }
    writeFileSync(`${sig}.tmp`, sign(null, readFileSync(a), key), { mode: 0o644 });
    renameSync(`${sig}.tmp`, sig);
  }
  return key ? artifacts.map(sigFile) : [];
}
