// Reading the operator's input files: a missing or unreadable file is NW_USAGE naming what it was.
import { readFile } from 'node:fs/promises';
import { NwError } from '../../host/errors.js';

export async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new NwError('NW_USAGE', `cannot read ${what} ${file} (${(e as NodeJS.ErrnoException).code})`);
  }
}

export interface AgentCredentialFiles {
  ca?: string;
  cert?: string;
  key?: string;
  tokenFile?: string;
}

/** What reaches agents: a client certificate of the fleet CA for https agents, the bearer token for loopback ones. */
export async function readAgentCredentials(o: AgentCredentialFiles): Promise<{ token?: string; tls?: { ca: string; cert: string; key: string } }> {
  const creds: { token?: string; tls?: { ca: string; cert: string; key: string } } = {};
  if (o.tokenFile) {
    creds.token = (await readText(o.tokenFile, 'token file')).trim();
    if (!creds.token) throw new NwError('NW_USAGE', `token file ${o.tokenFile} is empty`);
  }
  const tlsFiles = [o.ca, o.cert, o.key].filter(Boolean).length;
  if (tlsFiles > 0 && tlsFiles < 3) throw new NwError('NW_USAGE', 'pass all of --ca, --cert and --key for https agents');
  if (o.ca && o.cert && o.key) {
    creds.tls = { ca: await readText(o.ca, 'CA certificate'), cert: await readText(o.cert, 'client certificate'), key: await readText(o.key, 'client key') };
  }
  return creds;
}
