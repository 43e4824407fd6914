// pki: the fleet CA, CSRs, certificate issue and checks (a leaf like protocol/: imports only host/errors).
export { createCa, caCertHash, parseCert } from './ca.js';
export { createKeyAndCsr, readCsr, requestedAltNames, isDnsName, type AltNames } from './csr.js';
export { signCsr } from './issue.js';
export { reissue } from './reissue.js';
export { checkTlsMaterial } from './check.js';
export { identityOf, requireRole, isRole, checkControllerIdentity, peerSha256, peerAltNames, ROLES, type Role } from './identity.js';
