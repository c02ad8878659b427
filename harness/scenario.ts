import type { PeerCertificate, SecureVersion } from 'node:tls';
import type { Credential, Pki } from '../certs/index.ts';

/** The catalog's failure families; `control` holds the healthy endpoints every client must accept. */
export const FAMILIES = [
  'control',
  'validity',
  'hostname',
  'trust',
  'chain-rules',
  'crypto-strength',
  'revocation',
  'client-certificates',
  'protocol',
  'client-configuration',
  'server-configuration',
] as const;
export type Family = (typeof FAMILIES)[number];

/** What a strict, correctly configured client must do with this endpoint. */
export type Verdict = 'accept' | 'reject';

/** How the server asks for a client certificate (mutual TLS). */
export interface ClientAuth {
  /** The CAs whose client certificates the server trusts. */
  trust: Credential[];
  /** `require`: no valid certificate, no connection. `request`: ask, but let the application decide. */
  mode: 'require' | 'request';
  /** CRLs the server checks client certificates against (PEM). */
  crl?: string[];
}

/**
 * What the listening socket does. `tls` is a real TLS server; the others model servers that are not TLS at all or
 * that misbehave before the handshake: `plain-http` answers with HTTP/1.1 400 in clear text, `reset-on-client-hello`
 * resets the connection (RST) when the ClientHello arrives, `silent` accepts and never says a word.
 */
export type ServerBehaviour = 'tls' | 'plain-http' | 'reset-on-client-hello' | 'silent';

/** Everything a server backend needs to serve one scenario. Backends translate it; none may silently drop a field. */
export interface ServerRecipe {
  /** The certificate chain the server sends, leaf first; the leaf's key is the server's key. */
  chain: Credential[];
  /**
   * Key/cert material handed to the TLS stack exactly as given, instead of the chain's PEMs (server-configuration
   * scenarios: a key that does not match, an encrypted key, DER where PEM is expected).
   */
  raw?: { key?: string | Buffer; cert?: string | Buffer; passphrase?: string };
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  /** OpenSSL cipher string, e.g. to offer only one suite, or `…@SECLEVEL=0` to serve weak keys on purpose. */
  ciphers?: string;
  /** Finite-field DH parameters (PEM), for DHE suites. */
  dhparam?: string;
  /** ALPN protocols the server accepts, in preference order. */
  alpn?: string[];
  /** Serve HTTP/2 (node:http2): ALPN h2 only, or h2 and http/1.1 with `allowHTTP1`. */
  http2?: { allowHTTP1: boolean };
  /** Other chains by SNI name; `chain` is served when the name is unknown or the client sends no SNI. */
  sni?: Record<string, Credential[]>;
  clientAuth?: ClientAuth;
  behaviour?: ServerBehaviour;
}

/** What a client must be given to talk to the endpoint the way the scenario means. */
export interface ClientSetup {
  /** The CAs a correctly configured client trusts for this endpoint (given as the `ca` option). */
  trust: Credential[];
  /**
   * The name the client asks for (SNI) and checks the certificate against. Default: `localhost`.
   * Set it to `undefined` explicitly to connect by IP literal (no SNI; the IP is checked against the certificate).
   */
  servername?: string;
  /** A client certificate the client presents by default. */
  present?: Credential;
  /** CRLs the client checks the server chain against (PEM). */
  crl?: string[];
  /** ALPN protocols the client offers. */
  alpn?: string[];
  /** Client cipher string or TLS versions, for scenarios about what the client offers. */
  ciphers?: string;
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  /** Client-configuration scenarios: verification switched off, or a custom identity check (pinning). */
  rejectUnauthorized?: boolean;
  checkServerIdentity?: (hostname: string, cert: PeerCertificate) => Error | undefined;
  /** Smallest DHE group (bits) the client accepts (`minDHSize`; Node's default is 1024). */
  minDHSize?: number;
  /** The probes' upper bound for this scenario (e.g. a server that never answers), instead of the 5 s default. */
  timeoutMs?: number;
}

/** The server and client of a scenario, and the same pair after its fix has been applied. */
export interface ScenarioMaterial {
  server: ServerRecipe;
  client: ClientSetup;
  /**
   * The fix, applied: a repaired server (e.g. a renewed certificate) and/or a repaired client (e.g. the CA it must
   * trust, the client certificate it must present). Whatever is not given stays as it was.
   * Absent where the only remedy is outside TLS (e.g. "ask the operator"), which `fix` then says in words.
   */
  fixed?: { server?: ServerRecipe; client?: ClientSetup };
}

/**
 * One failure (or healthy control), declared once. `cause` and `fix` are written for the developer who just hit the
 * error; `expect` is what a strict client must do; `setup` builds the server and client material from the PKI.
 */
export interface Scenario {
  id: string;
  family: Family;
  title: string;
  cause: string;
  fix: string;
  expect: Verdict;
  setup(pki: Pki): Promise<ScenarioMaterial>;
}

export function defineScenario(scenario: Scenario): Scenario {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(scenario.id)) throw new Error(`scenario id must be kebab-case: ${scenario.id}`);
  return scenario;
}
