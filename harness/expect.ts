import { STATUS_CODES } from 'node:http';
import type { SecureVersion } from 'node:tls';
import { FACTS, holds, type FactName, type Runtime } from './facts.ts';
import type { ProbeName } from './outcome.ts';
import type { ServerSoftware } from './servers/backend.ts';

/**
 * The outcome vocabulary of the scenario declarations: what each client must observe, as data. A declaration states
 * one expectation per case; where clients, TLS versions, servers or Node lines differ, the expectation branches on
 * exactly that (`perProbe`, `perVersion`, `perServer`, `when(fact)`), and `resolve` picks the branch for one probe of
 * one run. The specs assert the resolved expectation, `catalog --json` prints it, docs/CATALOG.md renders it for every
 * documented Node line.
 */

// ---- Messages ------------------------------------------------------------------------------------------------------

/**
 * An error message: the exact text; or an OpenSSL error line, pinned by its reason string and alert number (the thread
 * id, packed code, function and source location vary by build: `80ACDF70227F0000:error:0A00045C:SSL routines:
 * ssl3_read_bytes:tlsv13 alert certificate required:…:SSL alert number 116`), with any text Node puts before it; or a
 * text with `<fingerprint>` standing for a SHA-256 fingerprint of this run's certificates.
 */
export type Message = string | { openssl: string; alert?: number; prefix?: string } | { fingerprinted: string };

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A pattern for a message that is not an exact text. */
function messagePattern(message: Exclude<Message, string>): RegExp {
  if ('fingerprinted' in message) {
    return new RegExp(`^${message.fingerprinted.split('<fingerprint>').map(escape).join('(?:[0-9A-F]{2}:){31}[0-9A-F]{2}')}$`);
  }
  const alert = message.alert === undefined ? '' : `[^\\n]*:SSL alert number ${message.alert}`;
  const prefix = escape(message.prefix ?? '');
  return new RegExp(`^${prefix}[0-9A-F]+:error:[0-9A-F]{8}:SSL routines:[A-Za-z0-9_]+:${escape(message.openssl)}:[^\\n]*${alert}\\n$`);
}

export function messageMatches(actual: string | undefined, message: Message): boolean {
  if (actual === undefined) return false;
  return typeof message === 'string' ? actual === message : messagePattern(message).test(actual);
}

/** How a title shows a message: `'text'`, or `OpenSSL 'reason' (alert N)`. */
export function describeMessage(message: Message): string {
  if (typeof message === 'string') return `'${message}'`;
  if ('fingerprinted' in message) return `'${message.fingerprinted}'`;
  const alert = message.alert === undefined ? '' : ` (alert ${message.alert})`;
  return `${message.prefix ?? ''}OpenSSL '${message.openssl}'${alert}`;
}

/** An OpenSSL error line with this reason (and alert number, for an alert), optionally after Node's own words. */
export function openssl(reason: string, alert?: number, prefix?: string): Message {
  return { openssl: reason, ...(alert !== undefined ? { alert } : {}), ...(prefix !== undefined ? { prefix } : {}) };
}

// ---- What a Node client observes -----------------------------------------------------------------------------------

/** An HTTPS exchange completed: HTTP 200 with the server's success line, read to the end. */
export interface Succeeds {
  kind: 'ok';
  /** The CN of the client certificate the server authenticated (mutual TLS). */
  as?: string;
  /** Verification was switched off: the handshake recorded this authorizationError and the client went on. */
  unverified?: string;
  /** The protocol the two ends negotiate, for a case that pins no version. */
  over?: SecureVersion;
  /** openssl s_client only: its `Verify return code` summary (with verification off it names the failure). */
  verify?: string;
}

/**
 * The client failed, with exactly this error. `phase` is where it surfaced (default `handshake`; `call` when the
 * client call itself throws, before any connection). fetch reports every failure as TypeError 'fetch failed' with the
 * error as its cause, in the `request` phase — unless `name` says it rejects with another error itself (`unwrapped`).
 */
export interface Fails {
  kind: 'fails';
  code?: string;
  message: Message;
  phase?: 'handshake' | 'after-secureConnect' | 'call';
  /** fetch only: it rejects with this error class itself (e.g. an AbortSignal's TimeoutError), not 'fetch failed'. */
  unwrapped?: string;
  /** Appended to the title in parentheses. */
  note?: string;
}

/**
 * The handshake completed and the server answered with an HTTP error: nginx's built-in page (its reason line, with
 * server_tokens off) for a refused certificate, or the exact body another server writes itself.
 */
export type Answers = { kind: 'http'; status: number } & ({ nginxPage: string; body?: never } | { body: string; nginxPage?: never });

export type NodeResult = Succeeds | Fails | Answers;

/** An expectation that may differ by probe, TLS version, server software or runtime fact. */
export type Branch<T> =
  | T
  | { kind: 'per-probe'; probes: Record<ProbeName, Branch<T>> }
  | { kind: 'per-version'; versions: Record<'TLSv1.3' | 'TLSv1.2', Branch<T>> }
  | { kind: 'per-server'; why: string; servers: { node: Branch<T> } & Partial<Record<Exclude<ServerSoftware, 'node'>, Branch<T>>> }
  | { kind: 'when'; fact: FactName; then: Branch<T>; otherwise: Branch<T> };

export type NodeExpect = Branch<NodeResult>;

/** Where an expectation is resolved: which run, which server program, which pinned TLS version, which probe. */
export interface Context {
  runtime: Runtime;
  server: ServerSoftware;
  version?: SecureVersion;
  probe?: ProbeName;
}

class DeclarationError extends Error {
  override name = 'DeclarationError';
}

/** The one expectation that applies in `context`. */
export function resolve<T>(branch: Branch<T>, context: Context): T {
  if (typeof branch === 'object' && branch !== null && 'kind' in branch) {
    const node = branch as Exclude<Branch<T>, T> | { kind: string };
    switch (node.kind) {
      case 'per-probe': {
        const { probes } = node as { probes: Record<ProbeName, Branch<T>> };
        if (!context.probe) throw new DeclarationError('a per-probe expectation needs a probe');
        return resolve(probes[context.probe], context);
      }
      case 'per-version': {
        const { versions } = node as { versions: Record<string, Branch<T>> };
        if (!context.version || !(context.version in versions)) {
          throw new DeclarationError(`a per-version expectation has nothing for ${context.version ?? 'an unpinned version'}`);
        }
        return resolve(versions[context.version] as Branch<T>, context);
      }
      case 'per-server': {
        const { servers } = node as { servers: Record<string, Branch<T> | undefined> };
        return resolve(servers[context.server] ?? (servers.node as Branch<T>), context);
      }
      case 'when': {
        const { fact, then, otherwise } = node as { fact: FactName; then: Branch<T>; otherwise: Branch<T> };
        return resolve(holds(fact, context.runtime) ? then : otherwise, context);
      }
    }
  }
  return branch as T;
}

/** The facts an expectation depends on (for the docs: which differences to explain). */
export function factsIn(branch: unknown): FactName[] {
  if (typeof branch !== 'object' || branch === null) return [];
  const found = new Set<FactName>();
  const walk = (value: unknown): void => {
    if (typeof value !== 'object' || value === null) return;
    if ((value as { kind?: unknown }).kind === 'when') found.add((value as { fact: FactName }).fact);
    for (const child of Object.values(value)) walk(child);
  };
  walk(branch);
  return [...found].filter((fact) => fact in FACTS);
}

// ---- Builders: a declaration reads as what each client reports ----------------------------------------------------

export const OK: Succeeds = { kind: 'ok' };

export function ok(details: Omit<Succeeds, 'kind'> = {}): Succeeds {
  return { kind: 'ok', ...details };
}

export function fails(code: string, message: Message, details: Omit<Fails, 'kind' | 'code' | 'message'> = {}): Fails {
  return { kind: 'fails', code, message, ...details };
}

/** What each Node client observes, where they differ. */
export function perProbe(probes: Record<ProbeName, NodeExpect>): NodeExpect {
  return { kind: 'per-probe', probes };
}

/** One expectation over TLS 1.3, another over TLS 1.2. */
export function perVersion<A, B>(tls13: Branch<A>, tls12: Branch<B>): Branch<A | B> {
  return { kind: 'per-version', versions: { 'TLSv1.3': tls13, 'TLSv1.2': tls12 } };
}

/** Where server programs differ: node's expectation, and openssl s_server's and nginx's where theirs is another; `why`. */
export function perServer(why: string, servers: { node: NodeExpect } & Partial<Record<'openssl' | 'nginx', NodeExpect>>): NodeExpect {
  return { kind: 'per-server', why, servers };
}

/** `then` on a runtime where the fact holds, `otherwise` elsewhere. */
export function when<A, B>(fact: FactName, then: Branch<A>, otherwise: Branch<B>): Branch<A | B> {
  return { kind: 'when', fact, then, otherwise };
}

/** The messages Node 23.11+ appends a --use-system-ca hint to (FACTS.systemCaHint). */
const HINTED_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
]);
const SYSTEM_CA_HINT = '; if the root CA is installed locally, try running Node.js with --use-system-ca';

/** A failed chain verification: Node's code for the OpenSSL error, its reason as the message (plus the hint where due). */
export function verifyFails(code: string, reason: string): NodeExpect {
  const failure = fails(code, reason);
  return HINTED_CODES.has(code) ? when('systemCaHint', fails(code, `${reason}${SYSTEM_CA_HINT}`), failure) : failure;
}

/** Node's host name mismatch: ERR_TLS_CERT_ALTNAME_INVALID, its message built from the error's `reason`. */
export function altnameInvalid(reason: string): Fails {
  return fails('ERR_TLS_CERT_ALTNAME_INVALID', `Hostname/IP does not match certificate's altnames: ${reason}`);
}

/**
 * An OpenSSL error that ends the handshake, as each client reports it: tls.connect and fetch (its cause) with Node's
 * ERR_SSL_* code and the OpenSSL line; https.request has already written its request into the unfinished handshake,
 * so the error surfaces as that write's failure — EPROTO, the same line after 'write EPROTO '.
 */
export function sslError(code: string, reason: string, alert?: number): NodeExpect {
  return perProbe({
    'tls.connect': fails(code, openssl(reason, alert)),
    'https.request': fails('EPROTO', openssl(reason, alert, 'write EPROTO ')),
    fetch: fails(code, openssl(reason, alert)),
  });
}

/** A TLS alert: its number, its name, and the family of its OpenSSL reason string ('sslv3 alert …' was renamed). */
export interface Alert {
  name: string;
  number: number;
  family: 'sslv3' | 'tlsv1' | 'tlsv13';
}

export const ALERTS = {
  handshakeFailure: { name: 'handshake failure', number: 40, family: 'sslv3' },
  unsupportedCertificate: { name: 'unsupported certificate', number: 43, family: 'sslv3' },
  certificateRevoked: { name: 'certificate revoked', number: 44, family: 'sslv3' },
  certificateExpired: { name: 'certificate expired', number: 45, family: 'sslv3' },
  unknownCa: { name: 'unknown ca', number: 48, family: 'tlsv1' },
  protocolVersion: { name: 'protocol version', number: 70, family: 'tlsv1' },
  noApplicationProtocol: { name: 'no application protocol', number: 120, family: 'tlsv1' },
  certificateRequired: { name: 'certificate required', number: 116, family: 'tlsv13' },
} as const satisfies Record<string, Alert>;

/** Node's code and OpenSSL's reason for an alert on a runtime where SSL 3.0's alerts are named `prefix`. */
function alertText(alert: Alert, sslv3: 'sslv3' | 'ssl/tls'): { code: string; reason: string } {
  const family = alert.family === 'sslv3' ? sslv3 : alert.family;
  const code = `ERR_SSL_${family.toUpperCase()}_ALERT_${alert.name.toUpperCase().replace(/ /g, '_')}`;
  return { code, reason: `${family} alert ${alert.name}` };
}

/** An alert as `build` makes it into an expectation, keyed on the fact that renamed SSL 3.0's alerts. */
function byAlertName(alert: Alert, build: (text: { code: string; reason: string }) => NodeExpect): NodeExpect {
  if (alert.family !== 'sslv3') return build(alertText(alert, 'sslv3'));
  return when('alertNamesSslTls', build(alertText(alert, 'ssl/tls')), build(alertText(alert, 'sslv3')));
}

/** The server's view of an alert the client sent (its tlsClientError names the alert it received). */
export function alertFromClient(alert: Alert): Branch<ServerSees> {
  const seen = (sslv3: 'sslv3' | 'ssl/tls') => {
    const { code, reason } = alertText(alert, sslv3);
    return tlsClientError(code, openssl(reason, alert.number));
  };
  return alert.family === 'sslv3' ? when('alertNamesSslTls', seen('ssl/tls'), seen('sslv3')) : seen('sslv3');
}

/** A fatal alert from the server that ends the handshake (sslError). */
export function alertInHandshake(alert: Alert): NodeExpect {
  return byAlertName(alert, ({ code, reason }) => sslError(code, reason, alert.number));
}

/**
 * A fatal alert the server sends in reply to the client's certificate, over TLS 1.3: the client has finished its side
 * of the handshake (secureConnect) when it arrives. tls.connect and https.request report it after secureConnect, and
 * undici sees the server close the socket before it reads the alert (UND_ERR_SOCKET 'other side closed').
 */
export function alertAfterSecureConnect(alert: Alert): NodeExpect {
  const afterSecureConnect = byAlertName(alert, ({ code, reason }) =>
    fails(code, openssl(reason, alert.number), { phase: 'after-secureConnect' }),
  );
  return perProbe({
    'tls.connect': afterSecureConnect,
    'https.request': afterSecureConnect,
    fetch: fails('UND_ERR_SOCKET', 'other side closed'),
  });
}

/** The same alert over either version: after secureConnect over TLS 1.3, ending the handshake over TLS 1.2. */
export function alertAfterHandshake(alert: Alert): NodeExpect {
  return perVersion(alertAfterSecureConnect(alert), alertInHandshake(alert));
}

/**
 * A Node server (requestCert + rejectUnauthorized) refusing a client certificate: it verifies the certificate after
 * the handshake and destroys the socket without an alert. Over TLS 1.3 the client has finished its side of the
 * handshake before that: tls.connect, which reads to the end, finds the connection closed with no HTTP response;
 * https, waiting for the response, reports 'socket hang up'; undici reports the close as UND_ERR_SOCKET. Over TLS 1.2
 * the server verifies before it sends its Finished, so every client sees the connection end during the handshake.
 */
export const DROPPED_WITHOUT_ALERT: NodeExpect = perVersion(
  perProbe({
    'tls.connect': fails('NO_RESPONSE', 'connection closed without an HTTP response', { phase: 'after-secureConnect' }),
    'https.request': fails('ECONNRESET', 'socket hang up', { phase: 'after-secureConnect' }),
    fetch: fails('UND_ERR_SOCKET', 'other side closed'),
  }),
  fails('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established'),
);

/** nginx's reasons, on its HTTP 400 page, for a refused client certificate (ngx_http_special_response.c). */
export const NGINX_NO_CERTIFICATE = 'No required SSL certificate was sent';
export const NGINX_CERTIFICATE_ERROR = 'The SSL certificate error';

/** nginx refuses a client certificate (or its absence) in HTTP: the handshake completes, the request gets HTTP 400. */
export function nginxPage(reason: string): Answers {
  return { kind: 'http', status: 400, nginxPage: reason };
}

/** nginx's built-in error page as it sends it with `server_tokens off`. */
export function nginxErrorPage(status: number, reason: string): string {
  const statusText = STATUS_CODES[status] ?? '';
  return [
    '<html>',
    `<head><title>${status} ${reason}</title></head>`,
    '<body>',
    `<center><h1>${status} ${statusText}</h1></center>`,
    `<center>${reason}</center>`,
    '<hr><center>nginx</center>',
    '</body>',
    '</html>',
    '',
  ].join('\r\n');
}

// ---- What the server saw -------------------------------------------------------------------------------------------

/** What the server reports of the connection tls.connect made (its tlsClientError or secureConnection). */
export type ServerSees =
  | { kind: 'tls-client-error'; code: string; message: Message; authorizationError?: string }
  | { kind: 'secure'; authorized: boolean; authorizationError?: string; peer?: string };

export function tlsClientError(code: string, message: Message, authorizationError?: string): ServerSees {
  return { kind: 'tls-client-error', code, message, ...(authorizationError !== undefined ? { authorizationError } : {}) };
}

export function secureConnection(authorized: boolean, details: { authorizationError?: string; peer?: string } = {}): ServerSees {
  return { kind: 'secure', authorized, ...details };
}

// ---- Server start-up (server-configuration) ------------------------------------------------------------------------

/** How a server meets key material it cannot use: a Node server throws, a child server exits with its own words. */
export type Startup =
  { kind: 'throws'; code: string; message: string } | { kind: 'exits'; output: string[] } | { kind: 'serves'; failure: NodeExpect };

// ---- Titles --------------------------------------------------------------------------------------------------------

/** The `it` title for what `probe` must observe: the exact outcome, e.g. "tls.connect fails with CERT_HAS_EXPIRED: '…'". */
export function probeTitle(probe: ProbeName, result: NodeResult, version: SecureVersion | undefined): string {
  if (result.kind === 'ok') {
    const over = result.over ?? version ?? 'TLSv1.3';
    const negotiated = version === undefined ? ' (negotiated)' : '';
    if (result.unverified !== undefined) {
      return probe === 'fetch'
        ? `fetch succeeds: HTTP 200 over ${over}${negotiated} — and, with no socket to look at, nothing tells the application`
        : `${probe} succeeds: HTTP 200 over ${over}${negotiated}, with authorized === false and authorizationError ${result.unverified}`;
    }
    const as = result.as === undefined ? '' : `, client authenticated as ${result.as}`;
    return `${probe} succeeds: HTTP 200 over ${over}${negotiated}${as}`;
  }
  if (result.kind === 'http') {
    const over = version ? ` over ${version}` : '';
    const what =
      result.nginxPage !== undefined
        ? `nginx's HTTP ${result.status} page '${result.nginxPage}'`
        : `HTTP status ${result.status} (${STATUS_CODES[result.status] ?? ''})`;
    return `${probe} completes the handshake${over} and reads ${what}`;
  }
  const note = result.note === undefined ? '' : ` (${result.note})`;
  if (probe === 'fetch') {
    if (result.unwrapped !== undefined)
      return `fetch rejects with ${result.unwrapped}: ${describeMessage(result.message)} (no cause)${note}`;
    return `fetch rejects with TypeError 'fetch failed', cause ${result.code}: ${describeMessage(result.message)}${note}`;
  }
  const verb =
    result.phase === 'call' ? 'throws' : result.phase === 'after-secureConnect' ? 'fails after secureConnect with' : 'fails with';
  return `${probe} ${verb} ${result.code}: ${describeMessage(result.message)}${note}`;
}

export function serverTitle(sees: ServerSees): string {
  if (sees.kind === 'tls-client-error') {
    const authorization = sees.authorizationError === undefined ? '' : `, authorizationError ${sees.authorizationError}`;
    return `the server's view: tlsClientError ${sees.code} ${describeMessage(sees.message)}${authorization}`;
  }
  const authorization =
    sees.authorizationError === undefined ? ', no authorizationError' : `, authorizationError ${sees.authorizationError}`;
  const peer = sees.peer === undefined ? ', no client certificate' : `, the client's subject CN=${sees.peer}`;
  return `the server's view: secureConnection with authorized === ${sees.authorized}${authorization}${peer}`;
}

/** A one-line summary of a resolved expectation, for the docs and `catalog --json`. */
export function summary(result: NodeResult, probe: ProbeName): string {
  if (result.kind === 'ok') {
    const as = result.as === undefined ? '' : ` as ${result.as}`;
    return result.unverified !== undefined ? `ok, unverified (${result.unverified})` : `ok${as}`;
  }
  if (result.kind === 'http')
    return result.nginxPage !== undefined ? `HTTP ${result.status} '${result.nginxPage}'` : `HTTP ${result.status}`;
  const where = result.phase === 'after-secureConnect' ? ' after secureConnect' : result.phase === 'call' ? ' (thrown by the call)' : '';
  if (probe === 'fetch' && result.unwrapped !== undefined) return `${result.unwrapped}: ${describeMessage(result.message)}`;
  return `${result.code ?? ''}: ${describeMessage(result.message)}${where}`;
}
