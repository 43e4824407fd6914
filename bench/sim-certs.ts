// Certificates for many simulated agents, fast. One certificate is made with @peculiar/x509 in the
// shape pki/issue.ts signs (CN = node, O = nodewright:agent, server+client auth, one shared agent
// key); each node's certificate is that template with its own CN and serial, re-signed by the CA
// key with node:crypto. signCsr takes ~44 ms a certificate here (it re-reads and re-checks the CA
// and the CSR each time), too slow for 18,000 nodes; this takes well under 1 ms.
import { createPrivateKey, randomBytes, sign, webcrypto } from 'node:crypto';
import { createKeyAndCsr, readCsr } from '../pki/index.js';
import { ROLE_PREFIX } from '../pki/identity.js';
import { importSigningKey, SIGNING } from '../pki/keys.js';
import { validity } from '../pki/serial.js';
import { x509 } from '../pki/x509.js';

export interface AgentIssuer {
  keyPem: string;
  /** `name` must be exactly NAME_WIDTH characters (the template's CN is patched in place). */
  issue(name: string): string;
}

export const NAME_WIDTH = 9;
const TEMPLATE_NAME = 'x'.repeat(NAME_WIDTH);

/** DER header of the element at `at`: where its content starts and its length. */
function header(der: Buffer, at: number): { start: number; len: number } {
  const b = der[at + 1];
  if (b < 0x80) return { start: at + 2, len: b };
  const n = b & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[at + 2 + i];
  return { start: at + 2 + n, len };
}

function derLength(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  const bytes: number[] = [];
  for (let l = len; l > 0; l >>= 8) bytes.unshift(l & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, content: Buffer) => Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);

export async function agentIssuer(ca: { certPem: string; keyPem: string }): Promise<AgentIssuer> {
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: 'sim-agent' });
  const csr = await readCsr(csrPem);
  const issuer = new x509.X509Certificate(ca.certPem);
  const template = await x509.X509CertificateGenerator.create({
    serialNumber: '01' + randomBytes(15).toString('hex'),
    subject: [{ CN: [TEMPLATE_NAME] }, { O: [`${ROLE_PREFIX}agent`] }],
    issuer: issuer.subjectName,
    ...validity(30),
    signingAlgorithm: SIGNING,
    publicKey: await csr.publicKey.export(webcrypto as unknown as Crypto),
    signingKey: await importSigningKey(ca.keyPem, 'the CA key'),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey),
    ],
  });
  const der = Buffer.from(template.rawData);
  const outer = header(der, 0);
  const tbsHead = header(der, outer.start);
  const tbsEnd = tbsHead.start + tbsHead.len;
  const tbs = der.subarray(outer.start, tbsEnd);
  const sigAlg = der.subarray(tbsEnd, header(der, tbsEnd).start + header(der, tbsEnd).len);
  // tbs: [0] version, then INTEGER serial.
  const version = header(tbs, tbsHead.start - outer.start);
  const serial = header(tbs, version.start + version.len);
  const cnAt = tbs.indexOf(Buffer.from(TEMPLATE_NAME));
  if (cnAt < 0 || tbs.indexOf(Buffer.from(TEMPLATE_NAME), cnAt + 1) >= 0) throw new Error('template CN not found exactly once');
  const caKey = createPrivateKey(ca.keyPem);
  return {
    keyPem,
    issue(name) {
      if (name.length !== NAME_WIDTH) throw new Error(`simulated node names are ${NAME_WIDTH} characters: ${name}`);
      const t = Buffer.from(tbs);
      t.write(name, cnAt, 'ascii');
      randomBytes(serial.len).copy(t, serial.start);
      t[serial.start] = (t[serial.start] & 0x7f) | 0x01;
      const sig = sign('sha256', t, caKey);
      const cert = tlv(0x30, Buffer.concat([t, sigAlg, tlv(0x03, Buffer.concat([Buffer.from([0]), sig]))]));
      return `-----BEGIN CERTIFICATE-----\n${cert.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`.replace('\n\n', '\n');
    },
  };
}
