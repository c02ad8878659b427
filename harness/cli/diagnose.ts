import { isIP } from 'node:net';
import type { SecureVersion } from 'node:tls';
import { parseArgs } from 'node:util';
import type { Scenario } from '../scenario.ts';
import { parseCount, parseSeconds, readPem } from './args.ts';
import { pemBlocks } from '../../certs/index.ts';
import type { CertificateInfo } from './chain.ts';
import { UsageError } from './errors.ts';
import { catalogFingerprints, match, observe, resultKey, type DiagnoseSettings, type Match, type Observation } from './fingerprint.ts';
import type { Outcome, ProbeName } from '../outcome.ts';
import type { Io } from './io.ts';

export const DIAGNOSE_HELP = `Usage: tls-harness diagnose <url | host:port> [--ca FILE] [--servername NAME] [options]

Connect to a TLS server with Node's three clients (tls.connect, https.request and fetch; verifying, one HTTP
request each), say where they differ, name the catalog entry that matches what tls.connect sees, and print its
cause and fix, and the certificate chain the server sent: subject, issuer, validity, SANs, key and signature
algorithm per certificate. To compare, diagnose starts every catalog endpoint in-process on 127.0.0.1 and observes
each the same way (about a second). Where several entries look the same from the client's side, it says so and
names them all.

Give it the settings your client has, so that it sees what your client sees:
  --ca FILE            PEM bundle of the CAs to trust instead of Node's default store
  --servername NAME    the name to ask for (SNI) and verify; default: the host of the URL (none for an IP)
  --cert FILE          client certificate (PEM), with --key FILE
  --key FILE           its private key (PEM)
  --crl FILE           PEM CRLs to check the chain against
  --min-version V      lowest TLS version: TLSv1, TLSv1.1, TLSv1.2, TLSv1.3
  --max-version V      highest TLS version
  --ciphers LIST       OpenSSL cipher string the client offers
  --alpn LIST          ALPN protocols the client offers, comma-separated (e.g. http/1.1)
  --min-dh-size BITS   smallest DHE group the client accepts (Node's default: 1024)
Other options:
  --timeout S          seconds to wait for each connection; default 5
  --json               one JSON object: { target, node, outcome, result, clients, agree, match, chain, server }
                       (outcome and result: tls.connect's; clients: each client's outcome)
  -h, --help           show this help

Exit code: 0 when all three clients connect and verify; 1 when any of them fails (the report says which and why);
2 for bad input and an unreachable host.

Examples:
  tls-harness diagnose https://localhost:8443/ --ca ca.pem
  tls-harness diagnose 127.0.0.1:8443 --servername api.internal.test --ca ca.pem
`;

const VERSIONS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
  'PROBE_TIMEOUT',
]);

export async function diagnoseCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ca: { type: 'string' },
      servername: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      crl: { type: 'string' },
      'min-version': { type: 'string' },
      'max-version': { type: 'string' },
      ciphers: { type: 'string' },
      alpn: { type: 'string' },
      'min-dh-size': { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.out(DIAGNOSE_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('diagnose takes one target: a URL (https://host:port/) or host:port');
  const target = parseTarget(positionals[0] as string);
  if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError('--cert and --key go together');
  const settings: DiagnoseSettings = {};
  const servername = values.servername ?? (isIP(target.host) ? undefined : target.host);
  if (servername !== undefined) settings.servername = servername;
  if (values.ca !== undefined) settings.ca = [await readPem(values.ca, 'CA file')];
  if (values.cert !== undefined) settings.cert = await readPem(values.cert, 'client certificate file');
  if (values.key !== undefined) settings.key = await readPem(values.key, 'client key file', 'PRIVATE KEY');
  // Node reads one CRL per `crl` entry: a bundle is split into its CRLs.
  if (values.crl !== undefined) settings.crl = pemBlocks(await readPem(values.crl, 'CRL file', 'X509 CRL'), 'X509 CRL');
  if (values['min-version'] !== undefined) settings.minVersion = version(values['min-version'], '--min-version');
  if (values['max-version'] !== undefined) settings.maxVersion = version(values['max-version'], '--max-version');
  if (values.ciphers !== undefined) settings.ciphers = values.ciphers;
  if (values.alpn !== undefined) settings.ALPNProtocols = values.alpn.split(',').filter((p) => p !== '');
  if (values['min-dh-size'] !== undefined) settings.minDHSize = parseCount(values['min-dh-size'], '--min-dh-size');
  const timeoutMs = (values.timeout === undefined ? 5 : parseSeconds(values.timeout, '--timeout')) * 1000;

  const observation = await observe(target, settings, timeoutMs, { otherClients: true });
  const { outcome } = observation;
  if (!outcome.ok && outcome.localPort === undefined && UNREACHABLE.has(outcome.code ?? '')) {
    const why = outcome.code === 'PROBE_TIMEOUT' ? `no TCP connection within ${timeoutMs / 1000} s` : outcome.code;
    throw new UsageError(`cannot reach ${formatTarget(target)}: ${why}`);
  }
  const found = match(observation, await catalogFingerprints());
  if (values.json) io.out(`${JSON.stringify(report(observation, found), null, 2)}\n`);
  else io.out(text(observation, found));
  return clientsOf(observation).every(([, o]) => o.ok) ? 0 : 1;
}

/** The three clients' outcomes, tls.connect first. */
function clientsOf(observation: Observation): Array<[ProbeName, Outcome]> {
  const others = observation.otherClients;
  return [['tls.connect', observation.outcome], ...(others ? (Object.entries(others) as Array<[ProbeName, Outcome]>) : [])];
}

/** What a client's outcome comes to: `ok`, or the error code that says why (fetch's is on its cause). */
function verdictOf(outcome: Outcome): string {
  if (outcome.ok) return 'ok';
  if (outcome.probe === 'fetch' && outcome.cause) return outcome.cause.code ?? outcome.cause.name;
  return outcome.code ?? outcome.errorName ?? 'error';
}

function clientsAgree(observation: Observation): boolean {
  return new Set(clientsOf(observation).map(([, o]) => verdictOf(o))).size === 1;
}

/** `https://host[:port]/…`, `host:port`, `[v6]:port` or a bare host (port 443). */
export function parseTarget(text: string): { host: string; port: number } {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new UsageError(`not a URL: ${text}`);
    }
    if (url.protocol !== 'https:') throw new UsageError(`diagnose speaks TLS: use an https:// URL, not ${url.protocol}//`);
    return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port === '' ? 443 : Number(url.port) };
  }
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const plain = /^([^:/\s]+)(?::(\d+))?$/.exec(text);
  const parts = bracketed ?? plain;
  if (!parts || (parts[2] !== undefined && Number(parts[2]) > 65535)) throw new UsageError(`not a URL or host:port: ${text}`);
  return { host: parts[1] as string, port: parts[2] === undefined ? 443 : Number(parts[2]) };
}

function formatTarget(target: { host: string; port: number }): string {
  return `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
}

function version(text: string, option: string): SecureVersion {
  if (!(VERSIONS as readonly string[]).includes(text)) throw new UsageError(`${option} must be one of ${VERSIONS.join(', ')}, not ${text}`);
  return text as SecureVersion;
}

function entry(scenario: Scenario) {
  const { id, family, title, expect, cause, fix } = scenario;
  return { id, family, title, expect, cause, fix };
}

function clientReport(outcome: Outcome) {
  return {
    ok: outcome.ok,
    phase: outcome.phase,
    ...(outcome.code !== undefined ? { code: outcome.code } : {}),
    ...(outcome.errorName !== undefined && outcome.probe === 'fetch' ? { errorName: outcome.errorName } : {}),
    ...(outcome.message !== undefined ? { message: outcome.message } : {}),
    ...(outcome.cause !== undefined ? { cause: outcome.cause } : {}),
    ...(outcome.protocol !== undefined ? { protocol: outcome.protocol } : {}),
    ...(outcome.status !== undefined ? { status: outcome.status } : {}),
  };
}

function report(observation: Observation, found: Match) {
  const { outcome } = observation;
  return {
    target: { ...observation.target, servername: observation.settings.servername ?? null },
    node: { version: process.version, openssl: process.versions.openssl },
    outcome: {
      ok: outcome.ok,
      phase: outcome.phase,
      ...(outcome.code !== undefined ? { code: outcome.code } : {}),
      ...(outcome.message !== undefined ? { message: outcome.message } : {}),
      ...(outcome.protocol !== undefined ? { protocol: outcome.protocol } : {}),
      ...(outcome.status !== undefined ? { status: outcome.status } : {}),
    },
    result: observation.result,
    clients: Object.fromEntries(clientsOf(observation).map(([name, o]) => [name, clientReport(o)])),
    agree: clientsAgree(observation),
    match: {
      kind: found.best.length === 1 ? 'one' : found.best.length > 1 ? 'ambiguous' : 'none',
      tier: found.tier,
      score: found.score,
      entries: found.best.map(entry),
      alsoPossible: found.alsoPossible.map(({ scenario, why, score }) => ({ ...entry(scenario), why, score })),
    },
    chain: {
      source: observation.capture.source,
      ...(observation.capture.note ? { note: observation.capture.note } : {}),
      certificates: observation.chain,
    },
    server: {
      ...observation.capture.hello,
      ...(observation.capture.certificateRequest !== undefined
        ? {
            clientCertificateRequest: observation.capture.certificateRequest && {
              authorities: observation.capture.certificateRequest.authorities,
            },
          }
        : {}),
    },
    ...(observation.clientCertificate ? { clientCertificate: observation.clientCertificate } : {}),
  };
}

function text(observation: Observation, found: Match): string {
  const { outcome, settings } = observation;
  const lines: string[] = [];
  const name = settings.servername === undefined ? 'no SNI' : `servername ${settings.servername}`;
  lines.push(`${formatTarget(observation.target)} (${name}) — Node ${process.version}, OpenSSL ${process.versions.openssl}`);
  for (const [name, client] of clientsOf(observation)) lines.push(`${name}: ${clientText(client)}`);
  if (observation.otherClients) {
    const verdicts = clientsOf(observation).map(([name, o]) => `${name} ${verdictOf(o)}`);
    lines.push(clientsAgree(observation) ? 'The three clients agree.' : `The clients differ: ${verdicts.join('; ')}.`);
  }
  lines.push('');
  const [only] = found.best;
  if (found.best.length === 0) {
    lines.push(
      `No catalog entry gives ${outcome.code ?? outcome.errorName ?? 'this result'}: see \`tls-harness catalog\` for what the catalog covers.`,
    );
  } else if (found.best.length === 1 && only) {
    const closeness = found.tier === 'exact' ? 'Matches' : 'Closest catalog entry (same code, another message):';
    lines.push(`${closeness} ${only.id} (${only.family}) — ${only.title}`);
    lines.push(`  ${verdictLine(only, outcome.ok)}`);
    lines.push(`  Cause: ${only.cause}`);
    lines.push(`  Fix:   ${only.fix}`);
  } else {
    lines.push(`Cannot tell apart ${found.best.length} catalog entries that look the same from the client's side:`);
    for (const scenario of found.best) {
      lines.push(`  ${scenario.id} (${scenario.family}) — ${scenario.title}`);
      lines.push(`    ${verdictLine(scenario, outcome.ok)}`);
      lines.push(`    Fix: ${scenario.fix}`);
    }
  }
  for (const { scenario, why } of found.alsoPossible) {
    lines.push(`Also possible: ${scenario.id} (${scenario.family}) — ${scenario.title}`);
    lines.push(`  Why diagnose cannot tell: ${why}.`);
    lines.push(`  Fix:   ${scenario.fix}`);
  }
  lines.push('');
  lines.push(...chainText(observation));
  return `${lines.join('\n')}\n`;
}

function clientText(outcome: Outcome): string {
  if (outcome.ok) return `connected over ${outcome.protocol ?? 'TLS'}, HTTP ${outcome.status ?? '?'}`;
  const result = resultKey(outcome);
  return outcome.phase === 'after-secureConnect' ? result : `${result} (${outcome.phase})`;
}

function verdictLine(scenario: Scenario, accepted: boolean): string {
  if (scenario.expect === 'accept')
    return accepted ? 'A strict client accepts this, and Node did.' : 'A strict client accepts this; Node did not.';
  return accepted ? 'A strict client must reject this — Node accepted it.' : 'A strict client must reject this, and Node did.';
}

function chainText(observation: Observation): string[] {
  const { capture, chain } = observation;
  if (chain.length === 0) return [`No certificate chain: ${capture.note ?? 'the server sent none'}.`];
  const how = capture.source === 'wire' ? 'as the server sent it' : `as Node links it (${capture.note})`;
  const lines = [`Certificate chain ${how}, ${chain.length} certificate${chain.length === 1 ? '' : 's'}:`];
  chain.forEach((c, i) => lines.push(...certificateText(c, i)));
  const request = capture.certificateRequest;
  if (request) lines.push(`The server asks for a client certificate from: ${request.authorities.join('; ') || '(any CA)'}`);
  const client = observation.clientCertificate;
  if (client) {
    const accepted =
      client.issuerAccepted === undefined
        ? ''
        : client.issuerAccepted
          ? ', an issuer the server accepts'
          : ', an issuer the server does NOT list';
    lines.push(
      `Client certificate given: ${client.subject} from ${client.issuer}${accepted}; ${client.validity}; EKU ${client.extendedKeyUsage?.join(', ') ?? '(none)'}`,
    );
  }
  const { hello } = capture;
  if (hello.protocol) {
    lines.push(
      `Server, asked for TLS 1.2 or lower: ${hello.protocol}, ${hello.cipher ?? '?'}${hello.ephemeralKey ? `, ephemeral ${hello.ephemeralKey}` : ''}`,
    );
  }
  return lines;
}

function certificateText(c: CertificateInfo, index: number): string[] {
  const sans =
    c.subjectAltNames.length > 6
      ? `${c.subjectAltNames.slice(0, 6).join(', ')}, … (${c.subjectAltNames.length} in all)`
      : c.subjectAltNames.join(', ') || '(none)';
  const state = c.validity === 'valid' ? 'valid' : `${c.validity.toUpperCase()}, by ${c.validityOff}`;
  const ca =
    c.ca === undefined ? 'no basicConstraints' : c.ca ? `CA${c.pathLength !== undefined ? ` (pathLen ${c.pathLength})` : ''}` : 'not a CA';
  const usage = [
    ca,
    c.keyUsage ? `keyUsage ${c.keyUsage.join(', ')}` : '',
    c.extendedKeyUsage ? `EKU ${c.extendedKeyUsage.join(', ')}` : '',
    c.nameConstraints ? 'nameConstraints' : '',
    c.unknownCriticalExtensions.length > 0 ? `unknown critical extension ${c.unknownCriticalExtensions.join(', ')}` : '',
  ].filter((part) => part !== '');
  return [
    `  [${index}] subject    ${c.subject || '(empty)'}`,
    `      issuer     ${c.issuer}`,
    `      validity   ${c.notBefore} → ${c.notAfter} (${state})`,
    `      SANs       ${sans}`,
    `      key        ${c.key}; signature ${c.signature}; signed by ${c.signedBy}${c.duplicate ? '; sent twice' : ''}`,
    ...(c.revocation ? [`      revocation ${c.revocation} (by the CRLs given)`] : []),
    `      extensions ${usage.join('; ')}`,
    `      sha256     ${c.sha256}`,
  ];
}
