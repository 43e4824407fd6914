// nodewright artifact add FILE --kind kubelet-binary --version V: upload to the controller's store
// (streamed; the controller hashes and signs it). artifact ls: the stored records.
// nodewright artifact sign: the detached signature the agent checks next to the bundle's sha256
// (protocol/bundle.ts signArtifact: domain tag + sha256 + size). The file is hashed as a stream.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { NwError } from '../../host/errors.js';
import { keyId, loadPrivateKey, signArtifact } from '../../protocol/bundle.js';
import type { ArtifactRecord } from '../store/store.js';
import type { ControllerClient } from './client.js';
import { formatTable, out, printJson, withClient, withOperator, type OperatorOpts } from './operator.js';

/** `artifact add`'s path: stream the file to the controller, which hashes, stores and signs it. */
export function addArtifact(c: ControllerClient, file: string, a: { kind: ArtifactRecord['kind']; version: string }): Promise<ArtifactRecord> {
  const q = new URLSearchParams({ kind: a.kind, version: a.version });
  return c.upload<ArtifactRecord>(`/v1/artifacts?${q}`, file);
}

export async function listArtifacts(c: ControllerClient): Promise<ArtifactRecord[]> {
  return (await c.request<{ artifacts: ArtifactRecord[] }>('GET', '/v1/artifacts')).artifacts;
}

/** sha256 and size of a file, read as a stream. */
export async function digestFile(file: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(file)) {
      h.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (e) {
    throw new NwError('NW_USAGE', `cannot read artifact ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return { sha256: h.digest('hex'), size };
}

export function registerArtifactCommands(program: Command): void {
  const artifact = program.command('artifact').description('kubelet artifacts');
  withOperator(
    artifact
      .command('add')
      .description("upload an artifact to the controller's store; rollouts name it as kubelet: {kind: binary, version: V}")
      .argument('<file>', 'the artifact (e.g. the kubelet binary)')
      .requiredOption('--kind <kind>', 'kubelet-binary')
      .requiredOption('--version <version>', 'the version rollouts name'),
  ).action(async (file: string, o: OperatorOpts & { kind: string; version: string }) => {
    const r = await withClient(o, (c) => addArtifact(c, file, { kind: o.kind as ArtifactRecord['kind'], version: o.version }));
    if (o.json) printJson(r);
    else out(`${r.kind} ${r.version} sha256=${r.sha256} size=${r.size}`);
  });
  withOperator(artifact.command('ls').description('the artifacts in the controller store')).action(async (o: OperatorOpts) => {
    const artifacts = await withClient(o, listArtifacts);
    if (o.json) return printJson(artifacts);
    out(formatTable(['KIND', 'VERSION', 'SHA256', 'SIZE', 'ADDED'], artifacts.map((a) => [a.kind, a.version, a.sha256, String(a.size), a.addedAt])));
  });
  artifact
    .command('sign')
    .description("sign an artifact: prints the base64 signature for the bundle's kubelet.signature (sha256 and size on stderr)")
    .requiredOption('--key <file>', 'ed25519 private key from `nodewright keygen`')
    .option('--out <file>', 'write the signature here (default stdout)')
    .argument('<file>', 'the artifact (e.g. the kubelet binary)')
    .action(async (file: string, o: { key: string; out?: string }) => {
      let pem: string;
      try {
        pem = await readFile(o.key, 'utf8');
      } catch (e) {
        throw new NwError('NW_USAGE', `cannot read signing key ${o.key} (${(e as NodeJS.ErrnoException).code})`);
      }
      const key = loadPrivateKey(pem);
      const digest = await digestFile(file);
      const signature = signArtifact(digest, key);
      if (o.out) await writeFile(o.out, `${signature}\n`, { mode: 0o644 });
      else process.stdout.write(`${signature}\n`);
      process.stderr.write(`sha256=${digest.sha256} size=${digest.size} keyId=${keyId(key)}\n`);
    });
}
