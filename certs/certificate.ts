import { randomBytes } from 'node:crypto';
import { memoize } from './memo.ts';
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

export type KeyUsage = keyof typeof x509.KeyUsageFlags;
export type ExtendedKeyUsage = keyof typeof x509.ExtendedKeyUsage;

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
  private readonly altNames: x509.JsonGeneralName[] = [];
  private validFromDays = -1;
  private validToDays = 30;
  private basicConstraints: { ca: boolean; pathLength?: number } | undefined;
  private keyUsages: KeyUsage[] | undefined;
  private extendedKeyUsages: ExtendedKeyUsage[] | undefined;
  private keySource: KeySpec | KeyPair = EC_P256;
  private hash: SignatureHash = 'SHA-256';
  private constraints: NameConstraintsSpec | undefined;
  private readonly extraExtensions: x509.Extension[] = [];
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
    this.altNames.push(...uris.map((value) => ({ type: 'url' as const, value })));
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

  extension(extension: x509.Extension): this {
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

  /** Mint the certificate. Async for callers' sake; the work is synchronous (see keys.ts and der.ts). */
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
      new Uint8Array(key.spki),
      der.explicit(3, der.sequence(...this.extensions(key))),
    );
    const certificateDer = der.sequence(tbs, algorithm, der.bitString(sign(tbs, signer, this.hash)));
    if (this.corruptSignature) certificateDer.set([(certificateDer.at(-1) ?? 0) ^ 0x01], certificateDer.length - 1);
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
      const bits = this.keyUsages.map((usage) => Math.log2(x509.KeyUsageFlags[usage]));
      extensions.push(extension('2.5.29.15', true, der.namedBits(bits)));
    }
    if (this.extendedKeyUsages) {
      extensions.push(extension('2.5.29.37', false, der.sequence(...this.extendedKeyUsages.map((u) => der.oid(x509.ExtendedKeyUsage[u])))));
    }
    if (this.altNames.length > 0) {
      extensions.push(extension('2.5.29.17', false, der.sequence(der.implicitValues(this.altNames.map(generalName)))));
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
    extensions.push(...this.extraExtensions.map((e) => new Uint8Array(e.rawData)));
    return extensions;
  }
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return der.sequence(der.oid(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

/** A subjectAltName entry as its GeneralName CHOICE tag and value. */
function generalName(name: x509.JsonGeneralName): der.ImplicitValue {
  switch (name.type) {
    case 'dns':
      return { n: 2, value: name.value };
    case 'ip':
      return { n: 7, value: der.ipAddressBytes(name.value) };
    case 'url':
      return { n: 6, value: name.value };
    case 'email':
      return { n: 1, value: name.value };
    default:
      throw new Error(`unsupported subjectAltName type: ${name.type}`);
  }
}

/** The attributes a subject here is made of (the builder writes `CN=<name>, O=tls-harness` or `O=tls-harness`). */
const NAME_ATTRIBUTES: Record<string, string> = { CN: '2.5.4.3', O: '2.5.4.10' };

/**
 * DER of a distinguished name `CN=…, O=…`, one attribute per RDN in the order given, cached: subjects repeat a lot.
 * A value is a PrintableString when its characters allow it, a UTF8String otherwise — the encoding @peculiar/x509
 * chose when it wrote these names, kept byte for byte (its Name parser cost ~0.2 ms per name).
 */
const nameDer = memoize(function encodeName(name: string): Uint8Array {
  const rdns = name.split(', ').map((pair) => {
    const [type = '', ...rest] = pair.split('=');
    const value = rest.join('=');
    const attribute = NAME_ATTRIBUTES[type];
    if (!attribute || value === '') throw new Error(`certificate subject ${JSON.stringify(name)}: cannot encode ${JSON.stringify(pair)}`);
    const text = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value) ? der.tlv(0x13, Buffer.from(value, 'ascii')) : der.utf8String(value);
    return der.set(der.sequence(der.oid(attribute), text));
  });
  return der.sequence(...rdns);
});

/** A Credential whose parsed `certificate` is made on first access. */
export function credential(label: string, certificateDer: Uint8Array, subjectDer: Uint8Array, key: KeyPair, serialNumber: string): Credential {
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

/** Random bytes drawn in batches: one system call per 256 serial numbers instead of one each. */
let serialPool = Buffer.alloc(0);

function randomSerialNumber(): Buffer {
  if (serialPool.length < 16) serialPool = randomBytes(16 * 256);
  const bytes = Buffer.from(serialPool.subarray(0, 16));
  serialPool = serialPool.subarray(16);
  bytes.writeUInt8((bytes.readUInt8(0) & 0x7f) | 0x01, 0); // positive, and no leading zero byte to trim
  return bytes;
}
