// nodewright ca init | ca issue: run a fleet CA by hand today (the controller's enrollment automates it).
import { writeFile, mkdir, lstat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { NwError } from '../../host/errors.js';
import { readText } from './files.js';
import { caCertHash, createCa, readCsr, requestedAltNames, signCsr, isRole, ROLES } from '../../pki/index.js';

export const CA_KEY = 'ca.key';
export const CA_CERT = 'ca.crt';

const exists = (file: string) => lstat(file).then(() => true, () => false);

export function registerCaCommands(program: Command): void {
  const ca = program.command('ca').description('the fleet CA: TLS certificates for agents, controllers, operators and Prometheus (role metrics)');
  ca.command('init')
    .description(`create the fleet CA in DIR (${CA_KEY} 0600, ${CA_CERT}); never overwrites`)
    .requiredOption('--dir <dir>', 'directory for the CA files')
    .option('--cn <name>', 'CA common name', 'nodewright fleet CA')
    .option('--days <n>', 'validity in days', '3650')
    .action(async (o: { dir: string; cn: string; days: string }) => {
      const keyFile = path.join(o.dir, CA_KEY);
      const certFile = path.join(o.dir, CA_CERT);
      for (const f of [keyFile, certFile]) {
        if (await exists(f)) throw new NwError('NW_EXISTS', `${f} already exists: a fleet has one CA; move it away first if you really mean to replace it`);
      }
      const { certPem, keyPem } = await createCa({ commonName: o.cn, validDays: days(o.days) });
      await mkdir(o.dir, { recursive: true, mode: 0o700 });
      try {
        await writeFile(keyFile, keyPem, { mode: 0o600, flag: 'wx' });
        await writeFile(certFile, certPem, { mode: 0o644, flag: 'wx' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new NwError('NW_EXISTS', `${o.dir} gained CA files meanwhile: refusing to overwrite them`);
        throw e;
      }
      process.stdout.write(`${keyFile} ${certFile} caCertHash=${caCertHash(certPem)}\n`);
    });

  ca.command('issue')
    .description('sign a CSR as the fleet CA; role in subject O=nodewright:<role>, name in CN')
    .requiredOption('--csr <file>', 'certificate request (PEM)')
    .requiredOption('--role <role>', ROLES.join('|'))
    .requiredOption('--name <name>', 'node / controller / operator / Prometheus name (certificate CN)')
    .option('--dir <dir>', 'directory holding the CA files', '.')
    .option('--out <file>', 'write the certificate here (default stdout)')
    .option('--dns <name...>', 'DNS subjectAltNames (default: those the CSR requests)')
    .option('--ip <address...>', 'IP subjectAltNames (default: those the CSR requests)')
    .option('--days <n>', 'validity in days', '365')
    .action(async (o: { csr: string; role: string; name: string; dir: string; out?: string; dns?: string[]; ip?: string[]; days: string }) => {
      if (!isRole(o.role)) throw new NwError('NW_USAGE', `--role ${o.role} unknown: use ${ROLES.join(', ')}`);
      const csrPem = await readText(o.csr, 'CSR');
      const ca = { certPem: await readText(path.join(o.dir, CA_CERT), 'CA certificate'), keyPem: await readText(path.join(o.dir, CA_KEY), 'CA key') };
      // The operator running this reviews the request, so granting its own alt names is the default here.
      const alt = o.dns || o.ip ? { dnsNames: o.dns ?? [], ipAddresses: o.ip ?? [] } : requestedAltNames(await readCsr(csrPem));
      const { certPem } = await signCsr({ ca, csrPem, role: o.role, name: o.name, validDays: days(o.days), ...alt });
      if (o.out) {
        await writeFile(o.out, certPem, { mode: 0o644 });
        process.stderr.write(`${o.out}: ${o.role} ${o.name} dns=[${alt.dnsNames.join(',')}] ip=[${alt.ipAddresses.join(',')}]\n`);
      } else process.stdout.write(certPem);
    });
}

function days(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new NwError('NW_USAGE', `--days ${s} must be a whole number >= 1`);
  return n;
}
