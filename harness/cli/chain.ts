import { X509Certificate } from 'node:crypto';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { pemBlocks } from '../../certs/index.ts';
import { x509 } from '../../certs/x509.ts';
import type { Target } from '../probes/options.ts';

/** How the server answered a maximally permissive client (any version up to TLS 1.2, any cipher, no verification). */
export interface ServerHello {
  protocol?: string;
  cipher?: string;
  /** The ephemeral key exchange, e.g. `ECDH X25519` or `DH 1024`. */
  ephemeralKey?: string;
}

/** The certificates the server sent, and how they were obtained. */
export interface ChainCapture {
  /**
   * `wire`: exactly as sent — order, duplicates and all — read from the cleartext Certificate message of a
   * TLS ≤ 1.2 handshake. `node`: as Node links it (getPeerCertificate(true): leaf, then issuers, completed from the
   * trust store), when the server speaks only TLS 1.3, whose Certificate message is encrypted. `none`: no chain.
   */
  source: 'wire' | 'node' | 'none';
  certificates: Buffer[];
  hello: ServerHello;
  /**
   * The server asked for a client certificate (a CertificateRequest in the cleartext TLS ≤ 1.2 handshake), naming
   * the CAs whose client certificates it accepts. Undefined when the capture could not see it (TLS 1.3 only).
   */
  certificateRequest?: { authorities: string[]; authoritiesDer: Buffer[] } | null;
  /** Why the chain is not from the wire, or why there is none. */
  note?: string;
}

/** One certificate of the chain, described for a person and compared between endpoints. */
export interface CertificateInfo {
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  validity: 'valid' | 'expired' | 'not yet valid';
  /** How far outside its validity the certificate is: clock skew is minutes, a lapsed certificate days. */
  validityOff?: 'under an hour' | 'an hour or more';
  /** subjectAltName entries as OpenSSL writes them (`DNS:localhost`, `IP Address:127.0.0.1`, `URI:…`). */
  subjectAltNames: string[];
  /** `EC P-256`, `RSA 2048`, `Ed25519`… */
  key: string;
  /** `ECDSA with SHA-256`, `RSASSA-PKCS1-v1_5 with SHA-1`… */
  signature: string;
  /** basicConstraints CA flag; undefined when the extension is absent. */
  ca: boolean | undefined;
  pathLength?: number;
  /** keyUsage bits (digitalSignature, keyCertSign…); undefined when the extension is absent. */
  keyUsage?: string[];
  /** extendedKeyUsage purposes (serverAuth, clientAuth, or the OID); undefined when absent. */
  extendedKeyUsage?: string[];
  nameConstraints: boolean;
  /** Critical extensions OpenSSL does not know (their OIDs): a verifier must reject the certificate. */
  unknownCriticalExtensions: string[];
  selfIssued: boolean;
  /** Which certificate's key verifies this one's signature. */
  signedBy:
    | 'itself'
    | 'the next certificate'
    | 'a later certificate'
    | 'an earlier certificate'
    | 'a CA that was not sent'
    | 'nothing: the signature does not verify';
  /** The same certificate was sent earlier in the chain. */
  duplicate: boolean;
  /** Only when CRLs were given: whether they revoke this certificate. */
  revocation?: 'revoked' | 'not revoked' | 'no CRL from its issuer';
  sha256: string;
  serialNumber: string;
}

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

/** Extensions OpenSSL processes; a critical extension outside this list makes verification fail. */
const KNOWN_EXTENSIONS = new Set([
  '2.5.29.9',
  '2.5.29.14',
  '2.5.29.15',
  '2.5.29.17',
  '2.5.29.18',
  '2.5.29.19',
  '2.5.29.30',
  '2.5.29.31',
  '2.5.29.32',
  '2.5.29.33',
  '2.5.29.35',
  '2.5.29.36',
  '2.5.29.37',
  '2.5.29.46',
  '2.5.29.54',
  '1.3.6.1.5.5.7.1.1',
  '1.3.6.1.5.5.7.1.24',
  '1.3.6.1.4.1.11129.2.4.2',
  '1.3.6.1.5.5.7.1.3',
]);

const KEY_USAGE_BITS: Array<[number, string]> = [
  [x509.KeyUsageFlags.digitalSignature, 'digitalSignature'],
  [x509.KeyUsageFlags.nonRepudiation, 'nonRepudiation'],
  [x509.KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
  [x509.KeyUsageFlags.dataEncipherment, 'dataEncipherment'],
  [x509.KeyUsageFlags.keyAgreement, 'keyAgreement'],
  [x509.KeyUsageFlags.keyCertSign, 'keyCertSign'],
  [x509.KeyUsageFlags.cRLSign, 'cRLSign'],
  [x509.KeyUsageFlags.encipherOnly, 'encipherOnly'],
  [x509.KeyUsageFlags.decipherOnly, 'decipherOnly'],
];

const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

const HOUR_MS = 60 * 60 * 1000;

/** A CRL as diagnose compares it with a chain: its issuer and the serials it revokes. */
interface ParsedCrl {
  issuerDer: Buffer;
  serials: Set<string>;
}

function parseCrls(pems: readonly string[]): ParsedCrl[] {
  return pems.flatMap((pem) => {
    try {
      const crl = new x509.X509Crl(pem);
      return [
        {
          issuerDer: Buffer.from(crl.issuerName.toArrayBuffer()),
          serials: new Set(crl.entries.map((e) => normalizeSerial(e.serialNumber))),
        },
      ];
    } catch {
      return [];
    }
  });
}

function normalizeSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

/** The DER of the first certificate in a PEM text. */
export function firstCertificateDer(pem: string): Buffer | undefined {
  const [first] = pemBlocks(pem, 'CERTIFICATE');
  return first ? Buffer.from(new X509Certificate(first).raw) : undefined;
}

/** The issuer Name of a certificate, DER-encoded (as a CertificateRequest lists acceptable CAs). */
export function issuerDer(der: Buffer): Buffer | undefined {
  try {
    return Buffer.from(new x509.X509Certificate(new Uint8Array(der)).issuerName.toArrayBuffer());
  } catch {
    return undefined;
  }
}

/**
 * Describe each certificate, and how the certificates of the chain relate to each other; with `crls`, also whether
 * they revoke each certificate.
 */
export function describeChain(
  certificates: readonly Buffer[],
  options: { crls?: readonly string[]; now?: number } = {},
): CertificateInfo[] {
  const now = options.now ?? Date.now();
  const crls = options.crls ? parseCrls(options.crls) : undefined;
  const parsed = certificates.map((der) => ({ node: new X509Certificate(der), der }));
  return parsed.map(({ node, der }, index) => {
    const details = parseDetails(der);
    const selfIssued = node.subject === node.issuer;
    const notBefore = Date.parse(node.validFrom);
    const notAfter = Date.parse(node.validTo);
    const off = now > notAfter ? now - notAfter : now < notBefore ? notBefore - now : undefined;
    const serialNumber = normalizeSerial(node.serialNumber);
    return {
      subject: oneLine(node.subject),
      issuer: oneLine(node.issuer),
      notBefore: new Date(notBefore).toISOString(),
      notAfter: new Date(notAfter).toISOString(),
      validity: now > notAfter ? 'expired' : now < notBefore ? 'not yet valid' : 'valid',
      ...(off !== undefined ? { validityOff: off < HOUR_MS ? 'under an hour' : 'an hour or more' } : {}),
      subjectAltNames: node.subjectAltName ? node.subjectAltName.split(', ') : [],
      key: keyName(node),
      signature: details.signature,
      ca: details.ca,
      ...(details.pathLength !== undefined ? { pathLength: details.pathLength } : {}),
      ...(details.keyUsage ? { keyUsage: details.keyUsage } : {}),
      ...(details.extendedKeyUsage ? { extendedKeyUsage: details.extendedKeyUsage } : {}),
      nameConstraints: details.nameConstraints,
      unknownCriticalExtensions: details.unknownCritical,
      selfIssued,
      signedBy: signer(
        parsed.map((p) => p.node),
        index,
      ),
      duplicate: parsed.slice(0, index).some((earlier) => earlier.der.equals(der)),
      ...(crls ? { revocation: revocation(crls, details.issuerDer, serialNumber) } : {}),
      sha256: node.fingerprint256,
      serialNumber,
    };
  });
}

function oneLine(name: string): string {
  return name
    .split('\n')
    .filter((part) => part !== '')
    .join(', ');
}

function keyName(certificate: X509Certificate): string {
  const key = certificate.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return `${key.asymmetricKeyType === 'rsa' ? 'RSA' : 'RSA-PSS'} ${details.modulusLength ?? '?'}`;
    case 'ec':
      return `EC ${CURVES[details.namedCurve ?? ''] ?? details.namedCurve ?? '?'}`;
    case 'ed25519':
      return 'Ed25519';
    case 'ed448':
      return 'Ed448';
    default:
      return key.asymmetricKeyType ?? 'unknown';
  }
}

function signer(chain: readonly X509Certificate[], index: number): CertificateInfo['signedBy'] {
  const certificate = chain[index] as X509Certificate;
  const verifies = (issuer: X509Certificate) => {
    try {
      return certificate.verify(issuer.publicKey);
    } catch {
      return false;
    }
  };
  if (certificate.subject === certificate.issuer && verifies(certificate)) return 'itself';
  const issuers = chain.map((c, i) => ({ c, i })).filter(({ c, i }) => i !== index && c.subject === certificate.issuer);
  if (issuers.length === 0)
    return certificate.subject === certificate.issuer ? 'nothing: the signature does not verify' : 'a CA that was not sent';
  const verified = issuers.find(({ c }) => verifies(c));
  if (!verified) return 'nothing: the signature does not verify';
  if (verified.i === index + 1) return 'the next certificate';
  return verified.i > index ? 'a later certificate' : 'an earlier certificate';
}

function revocation(crls: readonly ParsedCrl[], issuer: Buffer | undefined, serial: string): CertificateInfo['revocation'] {
  const fromIssuer = crls.filter((crl) => issuer !== undefined && crl.issuerDer.equals(issuer));
  if (fromIssuer.length === 0) return 'no CRL from its issuer';
  return fromIssuer.some((crl) => crl.serials.has(serial)) ? 'revoked' : 'not revoked';
}

/** What the certificate's own extensions say (parsed with @peculiar/x509): the fields of CertificateInfo they fill. */
type Details = Pick<CertificateInfo, 'signature' | 'ca' | 'pathLength' | 'keyUsage' | 'extendedKeyUsage' | 'nameConstraints'> & {
  issuerDer?: Buffer;
  unknownCritical: string[];
};

function parseDetails(der: Buffer): Details {
  let certificate: x509.X509Certificate;
  try {
    certificate = new x509.X509Certificate(new Uint8Array(der));
  } catch {
    return { signature: 'unknown', ca: undefined, nameConstraints: false, unknownCritical: [] };
  }
  const algorithm = certificate.signatureAlgorithm as { name?: string; hash?: { name?: string } };
  const signature = algorithm.name ? `${algorithm.name}${algorithm.hash?.name ? ` with ${algorithm.hash.name}` : ''}` : 'unknown';
  const basic = certificate.getExtension(x509.BasicConstraintsExtension);
  const usages = certificate.getExtension(x509.KeyUsagesExtension);
  const eku = certificate.getExtension(x509.ExtendedKeyUsageExtension);
  return {
    issuerDer: Buffer.from(certificate.issuerName.toArrayBuffer()),
    signature,
    ca: basic ? basic.ca : undefined,
    ...(basic?.pathLength !== undefined ? { pathLength: basic.pathLength } : {}),
    ...(usages ? { keyUsage: KEY_USAGE_BITS.filter(([bit]) => (usages.usages & bit) !== 0).map(([, name]) => name) } : {}),
    ...(eku ? { extendedKeyUsage: eku.usages.map((oid) => EKU_NAMES[String(oid)] ?? String(oid)) } : {}),
    nameConstraints: certificate.extensions.some((e) => e.type === '2.5.29.30'),
    unknownCritical: certificate.extensions.filter((e) => e.critical && !KNOWN_EXTENSIONS.has(e.type)).map((e) => e.type),
  };
}

/**
 * Get the chain the server sends for `servername`: first from the wire of a TLS ≤ 1.2 handshake, then — for a
 * TLS 1.3-only server — from Node's view of a TLS 1.3 handshake. Never verifies, never throws for a TLS failure.
 */
export async function captureChain(target: Target, servername: string | undefined, timeoutMs: number): Promise<ChainCapture> {
  const wire = await captureFromWire(target, servername, timeoutMs);
  if (wire.certificates.length > 0) return wire;
  const linked = await captureFromNode(target, servername, timeoutMs);
  if (linked.certificates.length > 0) {
    return {
      ...linked,
      note: `the server sent no certificate at TLS 1.2 or lower (${wire.note}); this is the chain as Node links it over TLS 1.3`,
    };
  }
  return { source: 'none', certificates: [], hello: wire.hello, note: `${wire.note}; over TLS 1.3: ${linked.note}` };
}

/** A Duplex between the TLS client and the TCP socket that keeps a copy of every byte the server sends. */
function recordingSocket(socket: net.Socket, received: Buffer[]): Duplex {
  const tap = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      if (socket.destroyed) callback();
      else socket.write(chunk, () => callback());
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(error, callback) {
      callback(error); // the TCP socket stays open a moment longer: the rest of the Certificate message may be in flight
    },
  });
  socket.on('data', (chunk: Buffer) => {
    received.push(chunk);
    if (!tap.destroyed) tap.push(chunk);
  });
  socket.on('end', () => {
    if (!tap.destroyed) tap.push(null);
  });
  socket.on('error', (error) => {
    if (!tap.destroyed) tap.destroy(error);
  });
  return tap;
}

function captureFromWire(target: Target, servername: string | undefined, timeoutMs: number): Promise<ChainCapture> {
  return new Promise((resolve) => {
    const received: Buffer[] = [];
    const hello: ServerHello = {};
    const socket = net.connect({ host: target.host, port: target.port });
    socket.on('error', () => {}); // reported through the TLS socket
    const client = tls.connect({
      socket: recordingSocket(socket, received),
      ...(servername !== undefined && net.isIP(servername) === 0 ? { servername } : {}),
      rejectUnauthorized: false,
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.2',
      ciphers: 'ALL:@SECLEVEL=0',
    });
    let reason = 'no answer';
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearInterval(poll);
      client.destroy();
      socket.destroy();
      const view = parseServerFlight(Buffer.concat(received));
      const certificates = view?.certificates ?? [];
      const request = view?.certificateRequest;
      resolve({
        source: certificates.length > 0 ? 'wire' : 'none',
        certificates,
        hello,
        ...(request === undefined
          ? {}
          : {
              certificateRequest: request && { authoritiesDer: request.authoritiesDer, authorities: request.authoritiesDer.map(nameText) },
            }),
        ...(certificates.length > 0 ? {} : { note: reason }),
      });
    };
    const timer = setTimeout(() => {
      reason = `no Certificate message within ${timeoutMs} ms`;
      finish();
    }, timeoutMs);
    // After a TLS error, wait (briefly) for the rest of a Certificate message that is still arriving.
    let poll: NodeJS.Timeout | undefined;
    const drain = () => {
      if (finished || poll) return;
      const started = Date.now();
      poll = setInterval(() => {
        if (parseServerFlight(Buffer.concat(received))?.done || socket.destroyed || Date.now() - started > 500) finish();
      }, 10);
    };
    client.once('secureConnect', () => {
      hello.protocol = client.getProtocol() ?? undefined;
      hello.cipher = client.getCipher()?.name;
      const ephemeral = client.getEphemeralKeyInfo();
      if (ephemeral && 'type' in ephemeral && ephemeral.type) {
        hello.ephemeralKey = ephemeral.name ? `${ephemeral.type} ${ephemeral.name}` : `${ephemeral.type} ${ephemeral.size ?? '?'} bits`;
      }
      finish();
    });
    client.once('error', (error: Error & { code?: string }) => {
      reason = `${error.code ?? error.name}: ${firstLine(error.message)}`;
      drain();
    });
    client.once('close', () => drain());
  });
}

function captureFromNode(target: Target, servername: string | undefined, timeoutMs: number): Promise<ChainCapture> {
  return new Promise((resolve) => {
    const client = tls.connect({
      host: target.host,
      port: target.port,
      ...(servername !== undefined && net.isIP(servername) === 0 ? { servername } : {}),
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
    });
    const timer = setTimeout(() => client.destroy(new Error(`no handshake within ${timeoutMs} ms`)), timeoutMs);
    client.once('secureConnect', () => {
      clearTimeout(timer);
      const certificates: Buffer[] = [];
      let peer: tls.DetailedPeerCertificate | undefined = client.getPeerCertificate(true);
      while (peer?.raw && !certificates.some((c) => c.equals(peer?.raw as Buffer))) {
        certificates.push(peer.raw);
        peer = peer.issuerCertificate;
      }
      const hello = { protocol: client.getProtocol() ?? undefined, cipher: client.getCipher()?.name };
      client.destroy();
      resolve({ source: 'node', certificates, hello });
    });
    client.once('error', (error: Error & { code?: string }) => {
      clearTimeout(timer);
      client.destroy();
      resolve({ source: 'none', certificates: [], hello: {}, note: `${error.code ?? error.name}: ${firstLine(error.message)}` });
    });
  });
}

function nameText(der: Buffer): string {
  try {
    return new x509.Name(new Uint8Array(der)).toString();
  } catch {
    return `(${der.length} bytes)`;
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? '';
}

/** What the cleartext part of a server's TLS ≤ 1.2 handshake says. */
export interface HandshakeView {
  certificates?: Buffer[];
  /** Null: the server finished its flight (ServerHelloDone) without asking for a client certificate. */
  certificateRequest?: { authoritiesDer: Buffer[] } | null;
  /** ServerHelloDone arrived: the server's first flight is complete. */
  done: boolean;
}

/**
 * Read the server's first handshake flight from its TLS ≤ 1.2 byte stream (records before ChangeCipherSpec are
 * cleartext): the Certificate message and the CertificateRequest. Undefined when the stream is not TLS.
 */
export function parseServerFlight(data: Buffer): HandshakeView | undefined {
  const handshake: Buffer[] = [];
  let offset = 0;
  while (offset + 5 <= data.length) {
    const type = data[offset] as number;
    if (type < 20 || type > 23 || data[offset + 1] !== 3) return undefined; // not a TLS record
    const length = data.readUInt16BE(offset + 3);
    if (offset + 5 + length > data.length) break;
    if (type === 20) break; // ChangeCipherSpec: what follows is encrypted
    if (type === 22) handshake.push(data.subarray(offset + 5, offset + 5 + length));
    offset += 5 + length;
  }
  const stream = Buffer.concat(handshake);
  const view: HandshakeView = { done: false };
  let tls12 = true;
  let position = 0;
  while (position + 4 <= stream.length) {
    const messageType = stream[position] as number;
    const length = stream.readUIntBE(position + 1, 3);
    if (position + 4 + length > stream.length) break;
    const body = stream.subarray(position + 4, position + 4 + length);
    if (messageType === 2 && body.length >= 2) tls12 = body.readUInt16BE(0) >= 0x0303; // ServerHello: version
    if (messageType === 11) view.certificates = certificateList(body);
    if (messageType === 13) view.certificateRequest = { authoritiesDer: authorities(body, tls12) };
    if (messageType === 14) {
      view.done = true;
      view.certificateRequest ??= null;
      break;
    }
    position += 4 + length;
  }
  return view;
}

function certificateList(body: Buffer): Buffer[] {
  const certificates: Buffer[] = [];
  let cursor = 3;
  while (cursor + 3 <= body.length) {
    const size = body.readUIntBE(cursor, 3);
    certificates.push(Buffer.from(body.subarray(cursor + 3, cursor + 3 + size)));
    cursor += 3 + size;
  }
  return certificates;
}

/** The certificate_authorities of a CertificateRequest (TLS 1.2 has signature algorithms before them). */
function authorities(body: Buffer, tls12: boolean): Buffer[] {
  let cursor = 1 + (body[0] ?? 0); // certificate_types
  if (tls12) cursor += 2 + body.readUInt16BE(cursor); // supported_signature_algorithms
  const end = cursor + 2 + body.readUInt16BE(cursor);
  cursor += 2;
  const names: Buffer[] = [];
  while (cursor + 2 <= end && cursor + 2 <= body.length) {
    const size = body.readUInt16BE(cursor);
    names.push(Buffer.from(body.subarray(cursor + 2, cursor + 2 + size)));
    cursor += 2 + size;
  }
  return names;
}
