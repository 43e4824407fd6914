// Key + certificate signing request, made where the key will live (the key never leaves that host).
import { isIP } from 'node:net';
import { NwError } from '../host/errors.js';
import { generateKeys, privateKeyPem, SIGNING } from './keys.js';
import { x509 } from './x509.js';

export interface AltNames {
  dnsNames?: string[];
  ipAddresses?: string[];
}

const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9*](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*$/;

/** A host name a subjectAltName may carry (no wildcard). */
export const isDnsName = (s: string): boolean => DNS_NAME.test(s) && !s.includes('*');

/** A subjectAltName extension for the given names, or null when there are none; NW_PKI on a malformed name. */
export function altNamesExtension(names: AltNames): InstanceType<typeof x509.SubjectAlternativeNameExtension> | null {
  const dns = names.dnsNames ?? [];
  const ips = names.ipAddresses ?? [];
  for (const d of dns) if (!DNS_NAME.test(d)) throw new NwError('NW_PKI', `"${d}" is not a DNS name: pass host names like worker-1.example`);
  for (const ip of ips) if (!isIP(ip)) throw new NwError('NW_PKI', `"${ip}" is not an IP address: pass addresses like 10.0.0.5 or ::1`);
  if (dns.length + ips.length === 0) return null;
  return new x509.SubjectAlternativeNameExtension([...dns.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))]);
}

export async function createKeyAndCsr(opts: { commonName: string } & AltNames): Promise<{ keyPem: string; csrPem: string }> {
  if (!opts.commonName.trim() || /[\n\r]/.test(opts.commonName)) throw new NwError('NW_PKI', 'the common name must be one non-empty line');
  const keys = await generateKeys();
  const san = altNamesExtension(opts);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [opts.commonName] }],
    keys,
    signingAlgorithm: SIGNING,
    extensions: san ? [san] : [],
  });
  return { keyPem: (await privateKeyPem(keys)) + '\n', csrPem: csr.toString('pem') + '\n' };
}

/** Parse a CSR and check its self-signature (proof the requester holds the key); NW_PKI otherwise. */
export async function readCsr(csrPem: string): Promise<InstanceType<typeof x509.Pkcs10CertificateRequest>> {
  let csr: InstanceType<typeof x509.Pkcs10CertificateRequest>;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (e) {
    throw new NwError('NW_PKI', `not a PEM certificate request (${(e as Error).message}): make one with \`openssl req -new\` or the agent's join`);
  }
  if (!(await csr.verify().catch(() => false))) throw new NwError('NW_PKI', 'the certificate request\'s signature does not verify: make a new CSR with the key it is for');
  return csr;
}

/** The subjectAltNames a CSR asks for (the signer decides whether to grant them). */
export function requestedAltNames(csr: InstanceType<typeof x509.Pkcs10CertificateRequest>): Required<AltNames> {
  const ext = csr.getExtension('2.5.29.17'); // subjectAltName
  const json = ext ? new x509.SubjectAlternativeNameExtension(ext.rawData).names.toJSON() : [];
  return { dnsNames: json.filter((n) => n.type === 'dns').map((n) => n.value), ipAddresses: json.filter((n) => n.type === 'ip').map((n) => n.value) };
}
