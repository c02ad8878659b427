import { getDiffieHellman } from 'node:crypto';
import { toPem } from './keys.ts';
import * as der from './der.ts';
import { memoize } from './memo.ts';

/**
 * Finite-field DH parameters for two well-known MODP groups, taken from Node's (OpenSSL's) own tables:
 * - `modp2`: the 1024-bit Oakley group 2 (RFC 2409 §6.2);
 * - `modp14`: the 2048-bit group 14 (RFC 3526 §3).
 */
export type ModpGroup = 'modp2' | 'modp14';

/**
 * The group's prime and generator, once per process: `getDiffieHellman` checks that the prime is safe when it builds
 * the group, which costs ~50 ms of CPU for modp2 on OpenSSL 3.0 (modp14 is a group OpenSSL knows and skips the check).
 */
const modpGroup = memoize((group: ModpGroup) => {
  const dh = getDiffieHellman(group);
  return { prime: dh.getPrime(), generator: dh.getGenerator() };
});

/** The group's prime p, as an unsigned big-endian byte string (a copy: callers may keep or change it). */
export function modpPrime(group: ModpGroup): Buffer {
  return Buffer.from(modpGroup(group).prime);
}

/**
 * The group's DH parameters as PEM (PKCS#3 DHParameter: SEQUENCE { prime INTEGER, base INTEGER }), which a server
 * takes as `dhparam`. Node can load such parameters but not write them, so they go through the DER writer.
 */
export const dhParametersPem = memoize((group: ModpGroup): string => {
  const { prime, generator } = modpGroup(group);
  return toPem(der.sequence(der.unsignedInteger(prime), der.unsignedInteger(generator)), 'DH PARAMETERS');
});
