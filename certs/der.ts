/**
 * A minimal DER writer: just the ASN.1 the PKI emits (certificates, CRLs, their extensions).
 * It replaces asn1js-based serialization in the hot path because that cost ~8 ms of CPU per certificate, which
 * put the PKI far over its 200 ms budget; parsing (for inspection) still goes through @peculiar/x509.
 */

import { memoize } from './memo.ts';

export type Der = Uint8Array;

/** How many bytes follow the first length byte: none below 128, else as many as the big-endian value needs. */
function extraLengthBytes(length: number): number {
  if (length < 0x80) return 0;
  let count = 0;
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) count++;
  return count;
}

/**
 * One TLV, written straight into a plain Uint8Array. A Buffer plus a spread header array per TLV, as before, stood
 * out in the PKI's CPU profile as allocation and garbage collection.
 */
export function tlv(tag: number, ...content: Der[]): Der {
  let length = 0;
  for (const part of content) length += part.length;
  const out = new Uint8Array(2 + extraLengthBytes(length) + length);
  let offset = writeHeader(out, 0, tag, length);
  for (const part of content) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Write a TLV's tag and length at `offset`; returns where its content starts. */
function writeHeader(out: Uint8Array, offset: number, tag: number, length: number): number {
  const extra = extraLengthBytes(length);
  out[offset++] = tag;
  if (extra === 0) out[offset++] = length;
  else {
    out[offset++] = 0x80 | extra;
    for (let i = extra - 1; i >= 0; i--) out[offset++] = Math.floor(length / 256 ** i) & 0xff;
  }
  return offset;
}

export const sequence = (...items: Der[]): Der => tlv(0x30, ...items);
export const set = (...items: Der[]): Der => tlv(0x31, ...items);
/** `[n] EXPLICIT` (constructed, context-specific). */
export const explicit = (n: number, ...content: Der[]): Der => tlv(0xa0 | n, ...content);
/** `[n] IMPLICIT` of a primitive value. */
export const implicit = (n: number, value: Der): Der => tlv(0x80 | n, value);

/** An OBJECT IDENTIFIER, encoded once per process (the same few dozen appear in every certificate). */
export const oid = memoize(function encodeOid(dotted: string): Der {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const groups: number[] = [];
    for (let value = arc; ; value = Math.floor(value / 128)) {
      groups.unshift(value % 128);
      if (value < 128) break;
    }
    bytes.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return tlv(0x06, Uint8Array.from(bytes));
});

/** An unsigned big-endian integer (serial numbers), with the leading zero DER needs when the high bit is set. */
export function unsignedInteger(bytes: Uint8Array): Der {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Uint8Array.of(0), trimmed]) : trimmed);
}

export function smallInteger(value: number): Der {
  const bytes: number[] = [];
  for (let rest = value; ; rest = Math.floor(rest / 256)) {
    bytes.unshift(rest & 0xff);
    if (rest < 256) break;
  }
  if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return tlv(0x02, Uint8Array.from(bytes));
}

export const boolean = (value: boolean): Der => tlv(0x01, Uint8Array.of(value ? 0xff : 0x00));
export const nullValue = (): Der => tlv(0x05);
export const octetString = (bytes: Uint8Array): Der => tlv(0x04, bytes);
export const utf8String = (text: string): Der => tlv(0x0c, Buffer.from(text, 'utf8'));
export const ia5 = (text: string): Uint8Array => Buffer.from(text, 'ascii');

/** A primitive `[n] IMPLICIT` value: IA5 text (a DNS name, URI or e-mail address) or raw bytes (an IP address). */
export interface ImplicitValue {
  n: number;
  value: string | Uint8Array;
}

/** Any character outside ASCII, which IA5String cannot hold. */
const BEYOND_ASCII = /[\u0080-\u{10ffff}]/u;

/**
 * The TLVs of `values` back to back, written into one buffer (the content of a GeneralNames SEQUENCE). A certificate
 * can carry thousands of names — oversize-certificate has 10,000 — and a buffer per name cost ~3 µs each on cold
 * code, which made that one certificate the PKI's slowest EC step.
 */
export function implicitValues(values: ImplicitValue[]): Der {
  let total = 0;
  for (const { value } of values) {
    if (typeof value === 'string' && BEYOND_ASCII.test(value)) throw new Error(`not an IA5String: ${JSON.stringify(value)}`);
    total += 2 + extraLengthBytes(value.length) + value.length;
  }
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const { n, value } of values) {
    offset = writeHeader(out, offset, 0x80 | n, value.length);
    if (typeof value === 'string') offset += out.write(value, offset, 'latin1');
    else {
      out.set(value, offset);
      offset += value.length;
    }
  }
  return out;
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
    bytes.set([(bytes[index] ?? 0) | (0x80 >> bit % 8)], index);
  }
  return bitString(bytes, 7 - (highest % 8));
}

/** UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5), at one-second precision. */
export function time(date: Date): Der {
  const iso = date.toISOString(); // 2026-11-29T13:47:00.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
    : tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}

/** The 4 or 16 bytes of an IP address (IPv4 dotted quad or IPv6 with at most one `::`; no embedded IPv4), once each. */
export const ipAddressBytes = memoize(function parseIpAddress(address: string): Uint8Array {
  // Parsed by hand: node:net's isIPv4/isIPv6 compile large regular expressions on first use (~15 ms).
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (v4) {
    const bytes = v4.slice(1).map(Number);
    if (bytes.every((b) => b <= 255)) return Uint8Array.from(bytes);
  }
  const halves = address.split('::');
  const groups = (part: string | undefined) => (part === undefined || part === '' ? [] : part.split(':'));
  const left = groups(halves[0]);
  const right = groups(halves[1]);
  const valid =
    halves.length <= 2 &&
    [...left, ...right].every((g) => /^[0-9a-f]{1,4}$/i.test(g)) &&
    (halves.length === 2 ? left.length + right.length < 8 : left.length === 8);
  if (!valid) throw new Error(`not an IP address: ${address}`);
  const all = [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right].map((g) => parseInt(g, 16));
  return Uint8Array.from(all.flatMap((g) => [g >> 8, g & 0xff]));
});
