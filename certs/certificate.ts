import { randomBytes } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, GeneralSubtree, GeneralSubtrees, NameConstraints, id_ce_nameConstraints } from '@peculiar/asn1-x509';
import { x509 } from './x509.ts';
import { EC_P256, generateKeyPair, signingAlgorithm, toPem, type KeyPair, type KeySpec, type SignatureHash } from './keys.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A certificate together with its private key: what a server (or a client, for mTLS) presents. */
export interface Credential {
  /** A short, stable label (the subject CN or the recipe's name), used in messages and file names. */
  label: string;
  certificate: x509.X509Certificate;
  certPem: string;
  key: KeyPair;
  keyPem: string;
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

  async build(): Promise<Credential> {
    const key = 'keys' in this.keySource ? this.keySource : await generateKeyPair(this.keySource);
    const now = Date.now();
    const signer = this.issuer?.key ?? key;
    const extensions = this.extensions(key);
    const params = {
      serialNumber: randomSerialNumber(),
      subject: this.subjectName,
      issuer: this.issuer?.certificate.subject ?? this.subjectName,
      notBefore: new Date(now + this.validFromDays * DAY_MS),
      notAfter: new Date(now + this.validToDays * DAY_MS),
      publicKey: key.spki,
      signingKey: signer.keys.privateKey,
      signingAlgorithm: signingAlgorithm(signer.spec, this.hash),
      extensions,
    };
    let certificate = await x509.X509CertificateGenerator.create(params);
    if (this.corruptSignature) {
      const der = new Uint8Array(certificate.rawData.slice(0));
      der[der.length - 1] ^= 0x01;
      certificate = new x509.X509Certificate(der);
    }
    return {
      label: this.labelText,
      certificate,
      certPem: toPem(new Uint8Array(certificate.rawData), 'CERTIFICATE'),
      key,
      keyPem: key.privateKeyPem,
      serialNumber: certificate.serialNumber,
    };
  }

  private extensions(key: KeyPair): x509.Extension[] {
    const extensions: x509.Extension[] = [];
    if (this.basicConstraints) {
      const { ca, pathLength } = this.basicConstraints;
      extensions.push(new x509.BasicConstraintsExtension(ca, pathLength, true));
    }
    if (this.keyUsages) {
      const flags = this.keyUsages.reduce((all, usage) => all | x509.KeyUsageFlags[usage], 0);
      extensions.push(new x509.KeyUsagesExtension(flags, true));
    }
    if (this.extendedKeyUsages) {
      extensions.push(new x509.ExtendedKeyUsageExtension(this.extendedKeyUsages.map((u) => x509.ExtendedKeyUsage[u])));
    }
    if (this.altNames.length > 0) {
      extensions.push(new x509.SubjectAlternativeNameExtension(this.altNames));
    }
    extensions.push(new x509.SubjectKeyIdentifierExtension(key.keyId));
    if (this.issuer) {
      extensions.push(new x509.AuthorityKeyIdentifierExtension(this.issuer.key.keyId));
    }
    if (this.constraints) {
      extensions.push(nameConstraintsExtension(this.constraints));
    }
    extensions.push(...this.extraExtensions);
    return extensions;
  }
}

/** Start describing a certificate whose subject is `CN=<commonName>, O=tls-harness`. */
export function certificate(commonName: string): CertificateBuilder {
  return new CertificateBuilder(commonName);
}

/** Start describing a certificate with a subject that has no common name at all. */
export function certificateWithoutCommonName(label: string): CertificateBuilder {
  return new CertificateBuilder(undefined, 'O=tls-harness').label(label);
}

function nameConstraintsExtension(spec: NameConstraintsSpec): x509.Extension {
  const subtrees = (names: string[] | undefined) =>
    names && names.length > 0
      ? new GeneralSubtrees(names.map((dNSName) => new GeneralSubtree({ base: new GeneralName({ dNSName }) })))
      : undefined;
  const value = new NameConstraints({
    permittedSubtrees: subtrees(spec.permittedDns),
    excludedSubtrees: subtrees(spec.excludedDns),
  });
  return new x509.Extension(id_ce_nameConstraints, true, AsnConvert.serialize(value));
}

function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f; // positive INTEGER, no leading zero byte needed
  bytes[0] |= 0x01;
  return bytes.toString('hex');
}
