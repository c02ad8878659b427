import { createHash } from 'node:crypto';
import {
  createSecureContext,
  type ConnectionOptions,
  type PeerCertificate,
  type SecureContext,
  type SecureContextOptions,
  type SecureVersion,
} from 'node:tls';

/** Where a probe connects: always loopback, always an explicit port. */
export interface Target {
  host: string;
  port: number;
}

/** How the client is configured: each field maps onto the `node:tls` option of the same name. */
export interface ClientOptions {
  /** PEMs to trust. `undefined`: Node's default root store (plus NODE_EXTRA_CA_CERTS). */
  ca?: string[];
  /** The name sent as SNI and checked against the certificate. `undefined`: connect by IP literal, no SNI. */
  servername?: string;
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  /** Client certificate chain and key (mutual TLS). */
  cert?: string;
  key?: string;
  crl?: string[];
  /** OpenSSL cipher string the client offers. */
  ciphers?: string;
  /** ALPN protocols the client offers. */
  ALPNProtocols?: string[];
  rejectUnauthorized?: boolean;
  checkServerIdentity?: (hostname: string, cert: PeerCertificate) => Error | undefined;
  /** Smallest finite-field DH group (bits) the client accepts in a DHE handshake; Node's default is 1024. */
  minDHSize?: number;
  /** Accept a chain that ends in a trusted intermediate rather than a root (Node ≥ 20.18 / 22.9). */
  allowPartialTrustChain?: boolean;
  /** Upper bound for the whole probe; a probe that hits it reports code PROBE_TIMEOUT. */
  timeoutMs?: number;
  /**
   * Environment variables of the client's process, for settings Node reads only at start-up
   * (NODE_EXTRA_CA_CERTS, NODE_TLS_REJECT_UNAUTHORIZED): the probe runs in a fresh Node process that has them.
   * A `{ pem }` value is written to a private file whose path becomes the value.
   */
  env?: Record<string, string | { pem: string }>;
}

export const DEFAULT_PROBE_TIMEOUT_MS = 5000;

/**
 * The TLS options shared by every Node client (tls.connect, https.request, fetch's connector). Context options that
 * OpenSSL refuses (a key that does not match its certificate) are passed as they are, so that the client call itself
 * meets them as an application's would.
 */
export function tlsOptions(target: Target, client: ClientOptions): ConnectionOptions {
  const options: ConnectionOptions = { host: target.host, port: target.port, ...contextOptions(client) };
  if (client.servername !== undefined) options.servername = client.servername;
  if (client.ALPNProtocols !== undefined) options.ALPNProtocols = client.ALPNProtocols;
  if (client.rejectUnauthorized !== undefined) options.rejectUnauthorized = client.rejectUnauthorized;
  if (client.checkServerIdentity !== undefined) options.checkServerIdentity = client.checkServerIdentity;
  if (client.minDHSize !== undefined) options.minDHSize = client.minDHSize;
  return options;
}

/** The client options that configure the OpenSSL context (trust, credentials, CRLs, ciphers, versions). */
const CONTEXT_OPTIONS = ['ca', 'cert', 'key', 'crl', 'ciphers', 'minVersion', 'maxVersion', 'allowPartialTrustChain'] as const;
const contexts = new Map<string, SecureContext>();

/**
 * The secure context for these client options, built once per distinct combination. tls.connect would build the
 * very same context from the same options on every call — parsing every CA PEM again, ~50 ms for
 * `[...tls.rootCertificates, root]` — which is exactly why applications that connect often pass a ready-made
 * `secureContext`; the handshake is the same. Socket-level options (servername, ALPN, rejectUnauthorized,
 * checkServerIdentity, minDHSize) stay per connection.
 */
function contextOptions(client: ClientOptions): { secureContext: SecureContext } | SecureContextOptions {
  const settings = Object.fromEntries(
    CONTEXT_OPTIONS.flatMap((name) => (client[name] === undefined ? [] : [[name, client[name]]])),
  ) as SecureContextOptions;
  const key = createHash('sha256').update(JSON.stringify(settings)).digest('hex');
  let context = contexts.get(key);
  if (!context) {
    try {
      context = createSecureContext(settings);
    } catch {
      return settings;
    }
    contexts.set(key, context);
  }
  return { secureContext: context };
}

/** The Host header / URL authority a client uses for this target. */
export function authority(target: Target, client: ClientOptions): string {
  const name = client.servername ?? target.host;
  return `${name.includes(':') ? `[${name}]` : name}:${target.port}`;
}

export class ProbeTimeout extends Error {
  override name = 'ProbeTimeout';
  readonly code = 'PROBE_TIMEOUT';
  constructor(ms: number) {
    super(`no outcome within ${ms} ms`);
  }
}
