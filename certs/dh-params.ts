import { toPem } from './keys.ts';
import * as der from './der.ts';
import { memoize } from './memo.ts';

/**
 * Finite-field DH parameters for the well-known MODP groups, as PEM (PKCS#3 DHParameter: SEQUENCE { prime INTEGER,
 * base INTEGER }), which a server takes as `dhparam`:
 * - `modp2`: the 1024-bit Oakley group 2 (RFC 2409 §6.2), p = 2^1024 − 2^960 − 1 + 2^64 · (⌊2^894 π⌋ + 129093);
 * - `modp14`: the 2048-bit group 14 (RFC 3526 §3), p = 2^2048 − 2^1984 − 1 + 2^64 · (⌊2^1918 π⌋ + 124476);
 * both with generator 2. The primes are computed from those formulas (π by Machin's formula, in BigInt: ~1 ms)
 * rather than taken from `crypto.getDiffieHellman(group)`, whose constructor checks that the prime is safe: ~25 ms
 * of CPU per group. specs/crypto-strength.spec.ts checks that both are exactly Node's own groups.
 */
export type ModpGroup = 'modp2' | 'modp14';

const GROUPS: Record<ModpGroup, { bits: number; offset: bigint }> = {
  modp2: { bits: 1024, offset: 129093n },
  modp14: { bits: 2048, offset: 124476n },
};

/** ⌊π · 2^bits⌋, from π = 16·arctan(1/5) − 4·arctan(1/239) in fixed point with guard bits. */
function piTimesPowerOfTwo(bits: number): bigint {
  const guard = 64n;
  const one = 1n << (BigInt(bits) + guard);
  const arctanOfInverse = (x: bigint): bigint => {
    let sum = 0n;
    let power = one / x; // one / x^(2k+1)
    for (let k = 0n; power !== 0n; k++) {
      sum += (k % 2n === 0n ? power : -power) / (2n * k + 1n);
      power /= x * x;
    }
    return sum;
  };
  return (16n * arctanOfInverse(5n) - 4n * arctanOfInverse(239n)) >> guard;
}

/** The group's prime p, as an unsigned big-endian byte string. */
export function modpPrime(group: ModpGroup): Buffer {
  const { bits, offset } = GROUPS[group];
  const n = BigInt(bits);
  const p = (1n << n) - (1n << (n - 64n)) - 1n + (1n << 64n) * (piTimesPowerOfTwo(bits - 130) + offset);
  return Buffer.from(p.toString(16).padStart(bits / 4, '0'), 'hex');
}

/** The group's DH parameters as PEM (generator 2), computed once per process. */
export const dhParametersPem = memoize((group: ModpGroup): string =>
  toPem(der.sequence(der.unsignedInteger(modpPrime(group)), der.smallInteger(2)), 'DH PARAMETERS'),
);
