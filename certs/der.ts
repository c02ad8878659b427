/**
 * A minimal DER writer (ITU-T X.690): just the ASN.1 the PKI emits — certificates, CRLs, their extensions and DH
 * parameters. Each function returns one complete TLV (tag, length, value) unless its comment says otherwise.
 * OpenSSL reads back each certificate as it is minted (CertificateBuilder.build()); specs/pki.spec.ts has it read the
 * DH parameters, and the revocation scenarios' handshakes the CRLs.
 */

export type Der = Uint8Array;

/** Parts back to back, e.g. the TLVs that make up the content of a SEQUENCE OF. */
export function concat(parts: readonly Uint8Array[]): Der {
  return Buffer.concat(parts);
}

/** A definite length: one byte below 128, else 0x80 | the count of big-endian bytes that follow. */
function lengthOctets(length: number): Der {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Uint8Array.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV with a single-byte tag, its content the given parts back to back. */
export function tlv(tag: number, ...content: Der[]): Der {
  const value = concat(content);
  return concat([Uint8Array.of(tag), lengthOctets(value.length), value]);
}

export const sequence = (...items: Der[]): Der => tlv(0x30, ...items);
export const set = (...items: Der[]): Der => tlv(0x31, ...items);
/** `[n] EXPLICIT` (constructed, context-specific). */
export const explicit = (n: number, ...content: Der[]): Der => tlv(0xa0 | n, ...content);
/** `[n] IMPLICIT` of a primitive value: the value's own tag replaced by the context-specific one. */
export const implicit = (n: number, value: Uint8Array): Der => tlv(0x80 | n, value);

/** An OBJECT IDENTIFIER from its dotted form: the first two arcs in one byte, each further arc in base 128. */
export function oid(dotted: string): Der {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const groups: number[] = [];
    for (let value = arc; ; value = Math.floor(value / 128)) {
      groups.unshift(value % 128);
      if (value < 128) break;
    }
    // Every base-128 digit but the last has its high bit set.
    bytes.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return tlv(0x06, Uint8Array.from(bytes));
}

/** An unsigned big-endian integer (serial numbers, DH primes), with the leading zero DER needs when the high bit is set. */
export function unsignedInteger(bytes: Uint8Array): Der {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, (trimmed[0] ?? 0) & 0x80 ? concat([Uint8Array.of(0), trimmed]) : trimmed);
}

/** A non-negative integer that fits a JavaScript number (versions, path lengths, generators). */
export function smallInteger(value: number): Der {
  const bytes: number[] = [];
  for (let rest = value; ; rest = Math.floor(rest / 256)) {
    bytes.unshift(rest % 256);
    if (rest < 256) break;
  }
  if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return tlv(0x02, Uint8Array.from(bytes));
}

export const boolean = (value: boolean): Der => tlv(0x01, Uint8Array.of(value ? 0xff : 0x00));
export const nullValue = (): Der => tlv(0x05);
export const octetString = (bytes: Uint8Array): Der => tlv(0x04, bytes);
export const utf8String = (text: string): Der => tlv(0x0c, Buffer.from(text, 'utf8'));
export const printableString = (text: string): Der => tlv(0x13, Buffer.from(text, 'ascii'));

/**
 * The content bytes of an IA5String (DNS names, URIs, e-mail addresses), without tag and length: callers tag it
 * themselves (`[2] IMPLICIT` in a GeneralName). IA5 is 7-bit ASCII, so anything beyond it is refused rather than
 * silently mangled.
 */
export function ia5(text: string): Uint8Array {
  if (/[\u0080-\u{10ffff}]/u.test(text)) throw new Error(`not an IA5String: ${JSON.stringify(text)}`);
  return Buffer.from(text, 'ascii');
}

export function bitString(bytes: Uint8Array, unusedBits = 0): Der {
  return tlv(0x03, Uint8Array.of(unusedBits), bytes);
}

/** A named-bit BIT STRING (e.g. keyUsage): bit 0 is the most significant bit of the first byte, trailing zeros trimmed. */
export function namedBits(bits: number[]): Der {
  if (bits.length === 0) return bitString(new Uint8Array(0));
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of bits) {
    const index = Math.floor(bit / 8);
    bytes.set([(bytes[index] ?? 0) | (0x80 >> (bit % 8))], index);
  }
  return bitString(bytes, 7 - (highest % 8));
}

/** UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5), at one-second precision. */
export function time(date: Date): Der {
  const iso = date.toISOString(); // 2026-11-29T13:47:00.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
    : tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}
