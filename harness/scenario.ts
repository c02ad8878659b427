import type { SecureVersion } from 'node:tls';
import { CertificateBuilder, type Credential, type Pki } from '../certs/index.ts';
import { OK, type Branch, type NodeExpect, type ServerSees, type Startup } from './expect.ts';
import type { ToolRow } from './expect-tools.ts';
import type { ClientFeature } from './features.ts';
import type { ProbeName } from './outcome.ts';
import type { ClientOptions } from './probes/options.ts';
import type { ServerSoftware } from './servers/backend.ts';

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

/**
 * The client of a scenario: node:tls option names and values (what `tls.connect`, `https.request` and fetch's
 * connector take), plus the harness's `timeoutMs` and `env`. `servername` defaults to `localhost`; set it to
 * `undefined` explicitly to connect by IP literal (no SNI; the IP is checked against the certificate).
 */
export type ClientSetup = ClientOptions;

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
  /** Other credentials the scenario's cases hand a client (e.g. a certificate from an untrusted CA), by name. */
  credentials?: Record<string, Credential>;
}

/**
 * One way the Node clients meet the scenario, and what each of them observes: the scenario as declared, a fix, a
 * workaround, a stricter client. The runner (specs/support/runner.ts) makes one `it` per probe — over each TLS version
 * pinned, unless `versions` is `negotiated` — titled with the exact outcome.
 */
export interface NodeCase {
  /** A describe title, e.g. `fix: a renewed certificate`; none for the scenario as declared. */
  title?: string;
  /** Against the endpoint with the fix applied. */
  fixed?: boolean;
  /** Client options on top of the scenario's (or the fix's), or a function of the material that returns them. */
  client?: ClientOptions | ((material: ScenarioMaterial) => ClientOptions);
  /** `each` (default): one run per TLS version, pinned. `negotiated`: the client's own versions, nothing pinned. */
  versions?: 'each' | 'negotiated';
  /** Only these probes (default: every Node client). */
  probes?: readonly ProbeName[];
  expect: NodeExpect;
  /** What the server saw of tls.connect's connection (undefined: not stated, e.g. for one TLS version only). */
  server?: Branch<ServerSees | undefined>;
}

/**
 * One failure (or healthy control), declared once: who it happens to and why (`cause`), what to do (`fix`), the
 * server and client (`setup`), and what every client observes — the Node clients case by case (`node`), curl,
 * openssl s_client and Python (`tools`), and, for a server that never starts, each server program (`startup`).
 */
export interface Scenario {
  id: string;
  family: Family;
  title: string;
  cause: string;
  fix: string;
  /** What a strict, correctly configured client must do. */
  expect: Verdict;
  setup(pki: Pki): Promise<ScenarioMaterial>;
  node: readonly NodeCase[];
  tools: ToolRow;
  /** The server cannot start with this configuration: what each server program does instead. */
  startup?: Record<ServerSoftware, Startup>;
  /**
   * What the verdict needs from a client beyond what its setup shows, with why — e.g. the CRLs only the fix hands
   * the client. Everything else a scenario needs is derived from its setup (harness/features.ts).
   */
  needs?: Partial<Record<ClientFeature, string>>;
}

/** A case where every Node client succeeds against the fixed endpoint. */
export function fixed(title: string, details: Omit<NodeCase, 'title' | 'fixed' | 'expect'> & { expect?: NodeExpect } = {}): NodeCase {
  return { title: `fix: ${title}`, fixed: true, expect: OK, ...details };
}

/**
 * The material of a scenario about the server's certificate: `leaf` sent with the PKI's intermediate CA, or with
 * `intermediate` (a builder is issued by it), to a client that trusts the root with `client` on top. The fix serves `fixedLeaf` the same way —
 * the healthy server leaf unless given, none with `null` — and gives the client `fixedClient` on top of its own.
 */
export async function leafServed(
  pki: Pki,
  leaf: Credential | CertificateBuilder,
  options: {
    client?: ClientOptions;
    /** Server settings besides the chain (SNI chains, ciphers…), for the scenario as declared. */
    server?: Omit<ServerRecipe, 'chain'>;
    /** The CA that issues and is sent with `leaf`, instead of the PKI's intermediate. */
    intermediate?: Credential;
    fixedLeaf?: Credential | CertificateBuilder | null;
    /** The CA that issues and is sent with `fixedLeaf`, instead of the PKI's intermediate. */
    fixedIntermediate?: Credential;
    fixedClient?: ClientOptions;
  } = {},
): Promise<ScenarioMaterial> {
  const issued = async (c: Credential | CertificateBuilder, issuer: Credential) =>
    c instanceof CertificateBuilder ? c.issuedBy(issuer).build() : c;
  const intermediate = options.intermediate ?? (await pki.intermediateCa());
  const fixedIntermediate = options.fixedIntermediate ?? (await pki.intermediateCa());
  const client = { ca: pems(await pki.rootCa()), ...options.client };
  const fixedLeaf = options.fixedLeaf === null ? undefined : await issued(options.fixedLeaf ?? (await pki.serverLeaf()), fixedIntermediate);
  const fixed = {
    ...(fixedLeaf ? { server: { chain: [fixedLeaf, fixedIntermediate] } } : {}),
    ...(options.fixedClient ? { client: { ...client, ...options.fixedClient } } : {}),
  };
  const server = { chain: [await issued(leaf, intermediate), intermediate], ...options.server };
  return { server, client, ...(Object.keys(fixed).length > 0 ? { fixed } : {}) };
}

/** An intermediate CA for one scenario: `builder` valid for a year, issued by the PKI's root. */
export async function underRoot(pki: Pki, builder: CertificateBuilder): Promise<Credential> {
  return builder
    .validDays(-1, 365)
    .issuedBy(await pki.rootCa())
    .build();
}

/** The PEMs of credentials, as the `ca` option takes them. */
export function pems(...credentials: Credential[]): string[] {
  return credentials.map((credential) => credential.certPem);
}

/** A client certificate and its key, as the `cert` and `key` options take them. */
export function presents(credential: Credential): { cert: string; key: string } {
  return { cert: credential.certPem, key: credential.keyPem };
}

export function defineScenario(scenario: Scenario): Scenario {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(scenario.id)) throw new Error(`scenario id must be kebab-case: ${scenario.id}`);
  return scenario;
}
