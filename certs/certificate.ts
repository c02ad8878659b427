import { randomBytes, X509Certificate } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { x509 } from './x509.ts';
import * as der from './der.ts';
import { EC_P256, newKeyPair, toPem, type KeyPair, type KeySpec, type SignatureHash } from './keys.ts';
import { signatureAlgorithm, sign } from './signing.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A certificate together with its private key: what a server (or a client, for mTLS) presents. */
export interface Credential {
  /** A short, stable label (the subject CN or the recipe's name), used in messages and file names. */
  label: string;
  /** The parsed certificate, for inspection (built on first access: parsing costs more than minting). */
  readonly certificate: x509.X509Certificate;
  /** DER of the certificate and of its subject Name (the issuer name of what it signs). */
  der: Uint8Array;
  subjectDer: Uint8Array;
  readonly certPem: string;
  key: KeyPair;
  readonly keyPem: string;
  /** Serial number in hex, as a CRL lists it. */
  serialNumber: string;
}

/** keyUsage bits by name, as numbered in RFC 5280 §4.2.1.3 (bit 0 is the first, most significant, bit). */
const KEY_USAGE_BITS = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
} as const;

export type KeyUsage = keyof typeof KEY_USAGE_BITS;

/** extendedKeyUsage purposes by name (RFC 5280 §4.2.1.12, id-kp arcs under 1.3.6.1.5.5.7.3). */
const EXTENDED_KEY_USAGE_OIDS = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
} as const;

export type ExtendedKeyUsage = keyof typeof EXTENDED_KEY_USAGE_OIDS;

/** A subjectAltName entry, as the builder's dns(), ip() and uri() take them. */
interface AltName {
  type: 'dns' | 'ip' | 'uri';
  value: string;
}

/** An extension as it goes into a certificate. */
export interface CertificateExtension {
  /** The extnID, dotted. */
  oid: string;
  critical: boolean;
  /** DER of the extension's value: the content of the extnValue OCTET STRING. */
  value: Uint8Array;
}

interface NameConstraintsSpec {
  permittedDns?: string[];
  excludedDns?: string[];
}

/**
 * A fluent description of one X.509 certificate. Nothing is generated until `build()`.
 * Validity is given in days relative to the current clock, so a recipe means the same thing in any year.
 */
export class CertificateBuilder {
  private subjectName: string;
  private issuer: Credential | undefined;
  private readonly altNames: AltName[] = [];
  private validFromDays = -1;
  private validToDays = 30;
  private basicConstraints: { ca: boolean; pathLength?: number } | undefined;
  private keyUsages: KeyUsage[] | undefined;
  private extendedKeyUsages: ExtendedKeyUsage[] | undefined;
  private keySource: KeySpec | KeyPair = EC_P256;
  private hash: SignatureHash = 'SHA-256';
  private constraints: NameConstraintsSpec | undefined;
  private readonly extraExtensions: CertificateExtension[] = [];
  private corruptSignature = false;
  private labelText: string;

  constructor(commonName: string | undefined, subject?: string) {
    this.subjectName = subject ?? (commonName === undefined ? 'O=tls-harness' : `CN=${commonName}, O=tls-harness`);
    this.labelText = commonName ?? subject ?? 'certificate';
  }

  label(text: string): this {
    this.labelText = text;
    return this;
  }

  dns(...names: string[]): this {
    this.altNames.push(...names.map((value) => ({ type: 'dns' as const, value })));
    return this;
  }

  ip(...addresses: string[]): this {
    this.altNames.push(...addresses.map((value) => ({ type: 'ip' as const, value })));
    return this;
  }

  uri(...uris: string[]): this {
    this.altNames.push(...uris.map((value) => ({ type: 'uri' as const, value })));
    return this;
  }

  /** Valid from `fromDays` to `toDays` relative to now (negative = in the past). */
  validDays(fromDays: number, toDays: number): this {
    this.validFromDays = fromDays;
    this.validToDays = toDays;
    return this;
  }

  /** A certificate authority: basicConstraints CA:TRUE, keyCertSign and cRLSign. */
  ca(options: { pathLength?: number } = {}): this {
    this.basicConstraints = { ca: true, ...options };
    this.keyUsages ??= ['keyCertSign', 'cRLSign'];
    return this;
  }

  /** An end-entity certificate for a TLS server. */
  serverAuth(): this {
    this.basicConstraints ??= { ca: false };
    this.keyUsages ??= ['digitalSignature', 'keyEncipherment'];
    this.extendedKeyUsages = ['serverAuth'];
    return this;
  }

  /** An end-entity certificate for a TLS client (mutual TLS). */
  clientAuth(): this {
    this.basicConstraints ??= { ca: false };
    this.keyUsages ??= ['digitalSignature'];
    this.extendedKeyUsages = ['clientAuth'];
    return this;
  }

  basic(constraints: { ca: boolean; pathLength?: number } | undefined): this {
    this.basicConstraints = constraints;
    return this;
  }

  keyUsage(...usages: KeyUsage[]): this {
    this.keyUsages = usages;
    return this;
  }

  extendedKeyUsage(...usages: ExtendedKeyUsage[]): this {
    this.extendedKeyUsages = usages;
    return this;
  }

  key(source: KeySpec | KeyPair): this {
    this.keySource = source;
    return this;
  }

  signatureHash(hash: SignatureHash): this {
    this.hash = hash;
    return this;
  }

  nameConstraints(spec: NameConstraintsSpec): this {
    this.constraints = spec;
    return this;
  }

  /** Add an extension the builder has no method for (e.g. an unknown one, to see how verifiers treat it). */
  extension(extension: CertificateExtension): this {
    this.extraExtensions.push(extension);
    return this;
  }

  /** Flip one bit of the signature after signing, so the certificate no longer verifies against its issuer. */
  tamperSignature(): this {
    this.corruptSignature = true;
    return this;
  }

  issuedBy(issuer: Credential): this {
    this.issuer = issuer;
    return this;
  }

  /**
   * Mint the certificate, and have OpenSSL (Node's X509Certificate) parse it and check its signature against the
   * issuer's key, so that an encoding mistake fails here, naming the certificate, rather than in some handshake.
   */
  async build(): Promise<Credential> {
    const key = 'privateKey' in this.keySource ? this.keySource : await newKeyPair(this.keySource);
    const signer = this.issuer?.key ?? key;
    const now = Date.now();
    const algorithm = signatureAlgorithm(signer, this.hash);
    const serial = randomSerialNumber();
    const subjectDer = nameDer(this.subjectName);
    const tbs = der.sequence(
      der.explicit(0, der.smallInteger(2)), // v3
      der.unsignedInteger(serial),
      algorithm,
      this.issuer?.subjectDer ?? subjectDer,
      der.sequence(der.time(new Date(now + this.validFromDays * DAY_MS)), der.time(new Date(now + this.validToDays * DAY_MS))),
      subjectDer,
      key.spki,
      der.explicit(3, der.sequence(...this.extensions(key))),
    );
    const certificateDer = der.sequence(tbs, algorithm, der.bitString(sign(tbs, signer, this.hash)));
    if (this.corruptSignature) certificateDer.set([(certificateDer.at(-1) ?? 0) ^ 0x01], certificateDer.length - 1);
    checkWithOpenSsl(this.labelText, certificateDer, signer, !this.corruptSignature);
    return credential(this.labelText, certificateDer, subjectDer, key, serial.toString('hex'));
  }

  private extensions(key: KeyPair): Uint8Array[] {
    const extensions: Uint8Array[] = [];
    if (this.basicConstraints) {
      const { ca, pathLength } = this.basicConstraints;
      const value = der.sequence(...(ca ? [der.boolean(true)] : []), ...(pathLength !== undefined ? [der.smallInteger(pathLength)] : []));
      extensions.push(extension('2.5.29.19', true, value));
    }
    if (this.keyUsages) {
      const bits = this.keyUsages.map((usage) => KEY_USAGE_BITS[usage]);
      extensions.push(extension('2.5.29.15', true, der.namedBits(bits)));
    }
    if (this.extendedKeyUsages) {
      extensions.push(
        extension('2.5.29.37', false, der.sequence(...this.extendedKeyUsages.map((u) => der.oid(EXTENDED_KEY_USAGE_OIDS[u])))),
      );
    }
    if (this.altNames.length > 0) {
      // GeneralNames ::= SEQUENCE OF GeneralName (10,000 of them in the oversize-certificate scenario).
      extensions.push(extension('2.5.29.17', false, der.sequence(der.concat(this.altNames.map(generalName)))));
    }
    extensions.push(extension('2.5.29.14', false, der.octetString(Buffer.from(key.keyId, 'hex'))));
    if (this.issuer) {
      extensions.push(extension('2.5.29.35', false, der.sequence(der.implicit(0, Buffer.from(this.issuer.key.keyId, 'hex')))));
    }
    if (this.constraints) {
      const subtrees = (tag: number, names: string[] | undefined) =>
        names && names.length > 0 ? [der.tlv(0xa0 | tag, ...names.map((name) => der.sequence(der.implicit(2, der.ia5(name)))))] : [];
      const value = der.sequence(...subtrees(0, this.constraints.permittedDns), ...subtrees(1, this.constraints.excludedDns));
      extensions.push(extension('2.5.29.30', true, value));
    }
    extensions.push(...this.extraExtensions.map(({ oid, critical, value }) => extension(oid, critical, value)));
    return extensions;
  }
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return der.sequence(der.oid(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

/** A subjectAltName entry as a GeneralName (RFC 5280 §4.2.1.6): dNSName [2], uniformResourceIdentifier [6], iPAddress [7]. */
function generalName(name: AltName): der.Der {
  switch (name.type) {
    case 'dns':
      return der.implicit(2, der.ia5(name.value));
    case 'uri':
      return der.implicit(6, der.ia5(name.value));
    case 'ip':
      return der.implicit(7, ipAddressBytes(name.value));
  }
}

/** The 4 or 16 bytes of an IP address written out in full: dotted quad, or IPv6 text. */
function ipAddressBytes(address: string): Uint8Array {
  // ipaddr.parse also reads IPv4 shorthands ("1" is 0.0.0.1, "0x7f.1" is 127.0.0.1); a name in a certificate
  // should say exactly what it is.
  if (!ipaddr.IPv4.isValidFourPartDecimal(address) && !ipaddr.IPv6.isValid(address)) {
    throw new Error(`subjectAltName: not an IP address: ${JSON.stringify(address)}`);
  }
  return Uint8Array.from(ipaddr.parse(address).toByteArray());
}

/**
 * Parse the certificate with OpenSSL and, unless its signature was corrupted on purpose, verify it with the signer's
 * public key. Throws an Error naming the certificate.
 */
function checkWithOpenSsl(label: string, certificateDer: Uint8Array, signer: KeyPair, signatureShouldVerify: boolean): void {
  let parsed: X509Certificate;
  try {
    parsed = new X509Certificate(certificateDer);
  } catch (error) {
    // OpenSSL's own message is left to `cause`: Node tries PEM before DER, so it reads "PEM routines::no start line".
    throw new Error(`certificate "${label}": OpenSSL cannot parse it`, { cause: error });
  }
  if (signatureShouldVerify && !parsed.verify(signer.publicKey)) {
    throw new Error(`certificate "${label}": its signature does not verify with its issuer's public key`);
  }
}

/** The attributes a subject here is made of (the builder writes `CN=<name>, O=tls-harness` or `O=tls-harness`). */
const NAME_ATTRIBUTES: Record<string, string> = { CN: '2.5.4.3', O: '2.5.4.10' };

/**
 * DER of a distinguished name `CN=…, O=…`, one attribute per RDN in the order given. A value is a PrintableString
 * when its characters allow it, a UTF8String otherwise (RFC 5280 §4.1.2.4 allows both).
 */
function nameDer(name: string): Uint8Array {
  const rdns = name.split(', ').map((pair) => {
    const [type = '', ...rest] = pair.split('=');
    const value = rest.join('=');
    const attribute = NAME_ATTRIBUTES[type];
    if (!attribute || value === '') throw new Error(`certificate subject ${JSON.stringify(name)}: cannot encode ${JSON.stringify(pair)}`);
    const text = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value) ? der.printableString(value) : der.utf8String(value);
    return der.set(der.sequence(der.oid(attribute), text));
  });
  return der.sequence(...rdns);
}

/** A Credential whose parsed `certificate` is made on first access. */
export function credential(
  label: string,
  certificateDer: Uint8Array,
  subjectDer: Uint8Array,
  key: KeyPair,
  serialNumber: string,
): Credential {
  let parsed: x509.X509Certificate | undefined;
  let certPem: string | undefined;
  return {
    label,
    get certificate() {
      return (parsed ??= new x509.X509Certificate(Uint8Array.from(certificateDer)));
    },
    der: certificateDer,
    subjectDer,
    get certPem() {
      return (certPem ??= toPem(certificateDer, 'CERTIFICATE'));
    },
    key,
    get keyPem() {
      return key.privateKeyPem;
    },
    serialNumber,
  };
}

/** Start describing a certificate whose subject is `CN=<commonName>, O=tls-harness`. */
export function certificate(commonName: string): CertificateBuilder {
  return new CertificateBuilder(commonName);
}

/** Start describing a certificate with a subject that has no common name at all. */
export function certificateWithoutCommonName(label: string): CertificateBuilder {
  return new CertificateBuilder(undefined, 'O=tls-harness').label(label);
}

/** A random 16-byte serial number (RFC 5280 §4.1.2.2 allows up to 20). */
function randomSerialNumber(): Buffer {
  const bytes = randomBytes(16);
  bytes.writeUInt8((bytes.readUInt8(0) & 0x7f) | 0x01, 0); // positive, and no leading zero byte to trim
  return bytes;
}
