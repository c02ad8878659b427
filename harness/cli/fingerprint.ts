import { isIP } from 'node:net';
import { once } from '../../certs/memo.ts';
import { scenarioMaterial, startEndpoint } from '../endpoint.ts';
import { describeOutcome, type Outcome } from '../outcome.ts';
import { probeFetch } from '../probes/fetch.ts';
import { probeHttpsRequest } from '../probes/https-request.ts';
import { probeTlsConnect } from '../probes/tls-connect.ts';
import type { ClientOptions, Target } from '../probes/options.ts';
import type { Scenario } from '../scenario.ts';
import { SCENARIOS } from '../scenarios/index.ts';
import { captureChain, describeChain, firstCertificateDer, issuerDer, type CertificateInfo, type ChainCapture } from './chain.ts';
import { clientNeeds, firstLack, type ClientFeature, type Lacks } from '../features.ts';

/** The client settings diagnose can be given on the command line: the tls.connect options of the same names. */
export type DiagnoseSettings = Pick<
  ClientOptions,
  'ca' | 'servername' | 'cert' | 'key' | 'crl' | 'ciphers' | 'ALPNProtocols' | 'minVersion' | 'maxVersion' | 'minDHSize'
>;

/** Everything diagnose learns about one endpoint. */
export interface Observation {
  target: Target;
  settings: DiagnoseSettings;
  /** tls.connect with the settings, verifying, one HTTP request read to the end (the catalog's tls.connect probe). */
  outcome: Outcome;
  /** The outcome as the catalog writes it, with timings taken out: `ok`, or `CODE: message[ after secureConnect]`. */
  result: string;
  capture: ChainCapture;
  chain: CertificateInfo[];
  /** The client certificate diagnose presented (--cert), described, and whether the server's CertificateRequest names its issuer. */
  clientCertificate?: CertificateInfo & { issuerAccepted?: boolean };
  /** https.request and fetch with the same settings, when asked for: diagnose reports them, the catalog is matched on tls.connect. */
  otherClients?: Record<'https.request' | 'fetch', Outcome>;
}

/**
 * Connect twice — once as the client would (verifying), once to see the chain (not verifying) — concurrently; with
 * `otherClients`, also with https.request and fetch, verifying, with the same settings.
 */
export async function observe(
  target: Target,
  settings: DiagnoseSettings,
  timeoutMs: number,
  { otherClients = false }: { otherClients?: boolean } = {},
): Promise<Observation> {
  const options = { ...settings, timeoutMs };
  const [outcome, capture, others] = await Promise.all([
    probeTlsConnect(target, options),
    captureChain(target, settings.servername, timeoutMs),
    otherClients ? Promise.all([probeHttpsRequest(target, options), probeFetch(target, options)]) : undefined,
  ]);
  const chain = describeChain(capture.certificates, settings.crl ? { crls: settings.crl } : {});
  return {
    target,
    settings,
    outcome,
    result: resultKey(outcome),
    capture,
    chain,
    ...clientCertificate(settings, capture),
    ...(others ? { otherClients: { 'https.request': others[0], fetch: others[1] } } : {}),
  };
}

function clientCertificate(settings: DiagnoseSettings, capture: ChainCapture): Pick<Observation, 'clientCertificate'> {
  const der = settings.cert === undefined ? undefined : firstCertificateDer(settings.cert);
  if (!der) return {};
  const [info] = describeChain([der]);
  if (!info) return {};
  const issuer = issuerDer(der);
  const request = capture.certificateRequest;
  const accepted = request && issuer ? request.authoritiesDer.some((name) => name.equals(issuer)) : undefined;
  return { clientCertificate: { ...info, ...(accepted !== undefined ? { issuerAccepted: accepted } : {}) } };
}

export function resultKey(outcome: Outcome): string {
  if (outcome.ok) return 'ok';
  return describeOutcome(outcome).replace(/\b\d+ ms\b/g, 'N ms');
}

/**
 * What an observation looks like, feature by feature: the server's chain (shape, validity, keys, extensions, how
 * each certificate is signed), how it answers a permissive client, and the client's name and settings. No names,
 * serials, dates or ports: two endpoints that serve the same kind of chain to the same kind of client look alike.
 */
export function features(observation: Observation): Map<string, string> {
  const f = new Map<string, string>();
  const { capture, chain, settings, target, outcome } = observation;
  f.set('protocol', outcome.protocol ?? '-');
  f.set('chain.source', capture.source);
  f.set('hello.protocol', capture.hello.protocol ?? '-');
  f.set('hello.keyExchange', keyExchange(capture.hello.cipher));
  f.set('hello.ephemeralKey', capture.hello.ephemeralKey ?? '-');
  f.set('server.requestsClientCertificate', capture.certificateRequest === undefined ? '-' : String(capture.certificateRequest !== null));
  f.set('chain.length', String(chain.length));
  chain.slice(0, 5).forEach((c, i) => {
    const at = (name: string, value: string) => f.set(`cert[${i}].${name}`, value);
    at('validity', `${c.validity}${c.validityOff ? ` by ${c.validityOff}` : ''}`);
    at('revocation', c.revocation ?? '-');
    at('selfIssued', String(c.selfIssued));
    at('signedBy', c.signedBy);
    at('duplicate', String(c.duplicate));
    at('ca', String(c.ca));
    at('pathLength', String(c.pathLength ?? '-'));
    at('keyUsage', c.keyUsage?.join(',') ?? '-');
    at('eku', c.extendedKeyUsage?.join(',') ?? '-');
    at('san', sanShape(c.subjectAltNames));
    at('san.wildcard', String(c.subjectAltNames.some((n) => n.startsWith('DNS:*'))));
    at('cn', String(/(^|, )CN=/.test(c.subject)));
    at('key', c.key);
    at('signature', c.signature);
    at('nameConstraints', String(c.nameConstraints));
    at('unknownCritical', String(c.unknownCriticalExtensions.length > 0));
  });
  const name = settings.servername;
  f.set('name.kind', name === undefined ? (isIP(target.host) ? 'ip literal' : 'host') : isIP(name) ? 'ip' : 'dns');
  f.set('name.form', name === undefined ? '-' : nameForm(name));
  f.set('settings.ca', settings.ca ? 'given' : 'default store');
  f.set('settings.clientCertificate', settings.cert ? 'given' : '-');
  f.set('settings.crl', settings.crl ? 'given' : '-');
  f.set('settings.versions', `${settings.minVersion ?? '-'}..${settings.maxVersion ?? '-'}`);
  f.set('settings.ciphers', settings.ciphers ?? '-');
  f.set('settings.alpn', settings.ALPNProtocols?.join(',') ?? '-');
  f.set('settings.minDHSize', String(settings.minDHSize ?? '-'));
  const client = observation.clientCertificate;
  f.set('clientCertificate.validity', client ? client.validity : '-');
  f.set('clientCertificate.eku', client?.extendedKeyUsage?.join(',') ?? '-');
  f.set('clientCertificate.issuerAccepted', String(client?.issuerAccepted ?? '-'));
  return f;
}

function keyExchange(cipher: string | undefined): string {
  if (!cipher) return '-';
  if (cipher.startsWith('TLS_')) return 'TLS 1.3';
  return /^(ECDHE|DHE|EDH|ECDH|DH|PSK|SRP)-/.exec(cipher)?.[1] ?? 'RSA';
}

function sanShape(names: readonly string[]): string {
  if (names.length === 0) return 'none';
  const kind = (n: string) => (n.startsWith('DNS:') && isIP(n.slice(4)) ? 'DNS(IP literal)' : n.split(':')[0]);
  const kinds = [...new Set(names.map(kind))].sort().join('+');
  const size = names.length > 100 ? ' (>100)' : '';
  return `${kinds}${size}`;
}

function nameForm(name: string): string {
  const forms = [
    name.endsWith('.') ? 'trailing dot' : '',
    /[A-Z]/.test(name) ? 'upper case' : '',
    /[^\x21-\x7e]/.test(name) ? 'unicode' : '',
    name.startsWith('xn--') || name.includes('.xn--') ? 'a-label' : '',
  ].filter((f) => f !== '');
  return forms.join(',') || 'plain';
}

/** A catalog entry diagnose can compare with, or why it cannot. */
export interface CatalogFingerprint {
  scenario: Scenario;
  observation: Observation;
  features: Map<string, string>;
  /** The server picks its certificate by the name asked for (SNI): a client sees one of them, never the others. */
  certificateBySni: boolean;
}

/** What diagnose's command line cannot give a client: its flags are the client settings it takes. */
export const DIAGNOSE_LACKS: Lacks<ClientFeature> = {
  'identity-callback': 'its client checks the server identity with a function of its own',
  'reject-unauthorized': 'its client switches verification off (rejectUnauthorized: false)',
  environment: 'its client runs with a process environment of its own',
  'partial-chain': 'its client accepts a chain ending in a trusted intermediate (allowPartialTrustChain)',
};

/** Why the scenario's client cannot be reproduced from diagnose's command line (so the scenario is no candidate). */
export function notReproducible(options: ClientOptions): string | undefined {
  const needs = clientNeeds(options).filter((need) => need.feature !== 'reject-unauthorized' || options.rejectUnauthorized === false);
  return firstLack(
    DIAGNOSE_LACKS,
    needs.map((need) => need.feature),
    undefined,
  );
}

/** The settings diagnose would be given to act like the scenario's client (what the spec passes as flags). */
export function settingsOf(options: ClientOptions): DiagnoseSettings {
  const { ca, servername, cert, key, crl, ciphers, ALPNProtocols, minVersion, maxVersion, minDHSize } = options;
  const settings: DiagnoseSettings = { ca, servername, cert, key, crl, ciphers, ALPNProtocols, minVersion, maxVersion, minDHSize };
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as DiagnoseSettings;
}

const FINGERPRINT_TIMEOUT_MS = 10_000;
/** A server that never answers (behaviour `silent`) is known to time out: no need to wait long to see it. */
const SILENT_TIMEOUT_MS = 300;
const FINGERPRINT_CONCURRENCY = 8;

/**
 * Every catalog scenario diagnose can compare with, observed live: its endpoint started in this process, then
 * observed exactly as diagnose observes a target, with the settings of the scenario's client. Built once per process
 * (~1 s), so what is compared is always this Node, this OpenSSL and this catalog.
 */
export const catalogFingerprints = once(async (): Promise<CatalogFingerprint[]> => {
  const fingerprints: Array<CatalogFingerprint | undefined> = new Array(SCENARIOS.length);
  let next = 0;
  const worker = async () => {
    while (next < SCENARIOS.length) {
      const index = next++;
      fingerprints[index] = await fingerprint(SCENARIOS[index] as Scenario);
    }
  };
  await Promise.all(Array.from({ length: FINGERPRINT_CONCURRENCY }, worker));
  return fingerprints.filter((f): f is CatalogFingerprint => f !== undefined);
});

async function fingerprint(scenario: Scenario): Promise<CatalogFingerprint | undefined> {
  let endpoint;
  let material;
  try {
    material = await scenarioMaterial(scenario);
    endpoint = await startEndpoint(scenario);
  } catch {
    return undefined; // a server that cannot start has no endpoint to diagnose
  }
  try {
    const options = endpoint.clientOptions();
    if (notReproducible(options)) return undefined;
    const timeoutMs = material.server.behaviour === 'silent' ? (options.timeoutMs ?? SILENT_TIMEOUT_MS) : FINGERPRINT_TIMEOUT_MS;
    const observation = await observe({ host: endpoint.host, port: endpoint.port }, settingsOf(options), timeoutMs);
    return { scenario, observation, features: features(observation), certificateBySni: material.server.sni !== undefined };
  } finally {
    await endpoint.close();
  }
}

/** How an observation matches the catalog. */
export interface Match {
  /** `exact`: the same result, code and message; `code`: the same error code (or both succeeded); `none`. */
  tier: 'exact' | 'code' | 'none';
  /** The entries with that result that look most like the observation: one, or several diagnose cannot tell apart. */
  best: Scenario[];
  /** How many features of the observation the best entries share, of how many. */
  score: { same: number; of: number };
  /**
   * Entries that scored as high as `best` or higher on features that are no evidence for them, ranked after it: what
   * would tell them apart cannot be observed (why), with their own score.
   */
  alsoPossible: Array<{ scenario: Scenario; why: string; score: { same: number; of: number } }>;
}

export const SNI_UNSEEN =
  'diagnose sees the certificate the server gives for the name asked for, not whether it keeps others for other names (SNI)';

/**
 * Name the catalog entry that matches: among the entries with the same result (else the same error code), those
 * that share the most features with the observation. When several share as many, all of them are returned.
 *
 * What sets a server that picks its certificate by SNI apart (the certificates it keeps for other names) cannot be
 * observed, so its default certificate looking like the observed one is no evidence for it. When only such entries
 * score highest, the best-scoring entry of a server with one certificate is named first and they follow as
 * also possible, with their scores: a server with one certificate for another name is the more common case.
 */
export function match(observation: Observation, catalog: readonly CatalogFingerprint[]): Match {
  const observed = features(observation);
  const code = (o: Observation) => (o.outcome.ok ? 'ok' : `${o.outcome.code ?? o.outcome.errorName}|${o.outcome.phase}`);
  let tier: Match['tier'] = 'exact';
  let candidates = catalog.filter((c) => c.observation.result === observation.result);
  if (candidates.length === 0) {
    tier = 'code';
    candidates = catalog.filter((c) => code(c.observation) === code(observation));
  }
  if (candidates.length === 0) return { tier: 'none', best: [], score: { same: 0, of: observed.size }, alsoPossible: [] };
  const scored = candidates.map((c) => ({ c, same: [...observed].filter(([name, value]) => c.features.get(name) === value).length }));
  const bestOf = (list: typeof scored) => {
    const top = Math.max(...list.map((s) => s.same));
    return { top, best: list.filter((s) => s.same === top) };
  };
  const { top, best } = bestOf(scored);
  const oneCertificate = scored.filter((s) => !s.c.certificateBySni);
  if (best.every((s) => s.c.certificateBySni) && oneCertificate.length > 0) {
    const promoted = bestOf(oneCertificate);
    return {
      tier,
      best: promoted.best.map((s) => s.c.scenario),
      score: { same: promoted.top, of: observed.size },
      alsoPossible: best.map((s) => ({ scenario: s.c.scenario, why: SNI_UNSEEN, score: { same: s.same, of: observed.size } })),
    };
  }
  return { tier, best: best.map((s) => s.c.scenario), score: { same: top, of: observed.size }, alsoPossible: [] };
}
