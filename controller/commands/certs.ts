// `nodewright certs renew --dir D`: new certificates for the controller's own keys in the init
// directory (controller.crt: the TLS server and the client it shows agents; operator.crt), signed
// with ca.key, same name, role and subjectAltNames, each file replaced atomically. The keys stay.
// A running controller serves the new certificate after `systemctl reload nodewright-controller` (SIGHUP).
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import type { Command } from 'commander';
import { NwError } from '../../host/errors.js';
import { RootedFs } from '../../host/fs.js';
import { reissue } from '../../pki/index.js';
import { readText } from './files.js';

export const RENEWABLE = [{ cert: 'controller.crt', key: 'controller.key' }, { cert: 'operator.crt', key: 'operator.key' }] as const;

export interface RenewedCert { file: string; name: string; notAfter: string }

export async function renewControllerCerts(o: { dir: string; validDays?: number }): Promise<RenewedCert[]> {
  const dir = path.resolve(o.dir);
  const fs = new RootedFs('/');
  const ca = { certPem: await readText(path.join(dir, 'ca.crt'), 'the fleet CA certificate'), keyPem: await readText(path.join(dir, 'ca.key'), 'the fleet CA key') };
  const present = [];
  for (const f of RENEWABLE) if (await fs.exists(path.join(dir, f.cert))) present.push(f);
  if (!present.length) throw new NwError('NW_USAGE', `${dir} holds neither controller.crt nor operator.crt: pass the directory \`nodewright init --dir\` wrote`);
  // every certificate is signed before any file is replaced: a refusal leaves all of them as they were
  const renewed = [];
  for (const f of present) {
    const file = path.join(dir, f.cert);
    const certPem = await readText(file, f.cert);
    const r = await reissue({ ca, certPem, keyPem: await readText(path.join(dir, f.key), f.key), validDays: o.validDays, what: file });
    renewed.push({ file, certPem: r.certPem, name: new X509Certificate(certPem).subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3) ?? f.cert, notAfter: r.notAfter.toISOString() });
  }
  for (const r of renewed) await fs.writeAtomic(r.file, r.certPem, { mode: 0o644, backup: false });
  return renewed.map(({ file, name, notAfter }) => ({ file, name, notAfter }));
}

export function registerCertsCommands(program: Command): void {
  const certs = program.command('certs').description("the controller's own certificates");
  certs
    .command('renew')
    .description('renew controller.crt and operator.crt in the init directory with its ca.key (same names and role; keys kept; atomic)')
    .requiredOption('--dir <dir>', 'the directory `nodewright init --dir` wrote')
    .option('--days <n>', 'validity in days', '365')
    .option('--json', 'print JSON')
    .action(async (o: { dir: string; days: string; json?: boolean }) => {
      const days = Number(o.days);
      if (!Number.isInteger(days) || days < 1 || days > 3650) throw new NwError('NW_USAGE', `--days must be a whole number from 1 to 3650, got '${o.days}'`);
      const r = await renewControllerCerts({ dir: o.dir, validDays: days });
      if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else process.stdout.write(r.map((c) => `renewed ${c.file} (${c.name}) until ${c.notAfter}`).join('\n') + '\nreload the running controller so it serves the new certificate: systemctl reload nodewright-controller (or kill -HUP its pid)\n');
    });
}
