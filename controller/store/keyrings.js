// A desired state's Ceph keyring is stored once per distinct value (table keyrings, by sha256):
// the desired row and its signed bundle keep a reference in place of the secret. The reference
// takes the keyring's place in the same object key, so the JSON read back is byte-identical to
// what was signed. A keyring can never contain NUL (protocol/desired.ts), so the marker cannot
// collide with one.
import { createHash } from 'node:crypto';
const MARK = '\u0000keyring:sha256:';
const keyringOf = (d) => {
    const ceph = d?.ceph;
    return ceph && typeof ceph === 'object' && typeof ceph.keyring === 'string' ? ceph.keyring : null;
};
const withKeyring = (d, keyring) => {
    const o = d;
    return { ...o, ceph: { ...o.ceph, keyring } };
};
export const keyringSha256 = (keyring) => createHash('sha256').update(keyring).digest('hex');
/** The desired state and its bundle with the keyring replaced by its reference (unchanged without one). */
export function detachKeyring(desired, bundle) {
    const value = keyringOf(desired);
    if (value === null)
        return { desired, bundle, keyring: null };
    const sha256 = keyringSha256(value);
    const ref = MARK + sha256;
    const b = bundle;
    const bundleOut = b && typeof b === 'object' && keyringOf(b.desired) === value ? { ...b, desired: withKeyring(b.desired, ref) } : bundle;
    return { desired: withKeyring(desired, ref), bundle: bundleOut, keyring: { sha256, value } };
}
/** The reference back to the keyring it names (`lookup` reads the keyrings table). */
export function attachKeyring(v, lookup) {
    const inDesired = (d) => {
        const k = keyringOf(d);
        if (k === null || !k.startsWith(MARK))
            return d;
        const value = lookup(k.slice(MARK.length));
        return value === null ? d : withKeyring(d, value);
    };
    const top = inDesired(v);
    const b = top;
    if (b && typeof b === 'object' && 'desired' in b)
        return { ...b, desired: inDesired(b.desired) };
    return top;
}
