import type { SecureVersion } from 'node:tls';
import { expect } from 'chai';
import { PROBE_NAMES, type ClientOptions, type Endpoint, type ErrorSummary, type Outcome, type Phase, type ProbeName } from '../../harness/index.ts';
import { only } from './runtime.ts';
import { successLine } from './backend.ts';

/** The exact failure a client must report. */
export interface ExpectedFailure {
  code: string;
  /** The exact message, or a pattern that pins OpenSSL's reason string. */
  message: string | RegExp;
  /** Where it surfaces; fetch always reports `request`, since it hides the socket. */
  phase: Phase;
}

/**
 * An OpenSSL error line as Node puts it in `error.message`, e.g.
 * `80ACDF70227F0000:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:…:SSL alert number 116`.
 * The thread id, packed error code, function and source location vary by build and version; the reason string and
 * the alert number are what the error means, so those are pinned (and any text Node puts before the line).
 */
export class OpenSslMessage extends RegExp {
  constructor(
    readonly reason: string,
    readonly alertNumber?: number,
    readonly prefix = '',
  ) {
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const alert = alertNumber === undefined ? '' : `[^\\n]*:SSL alert number ${alertNumber}`;
    super(`^${escape(prefix)}[0-9A-F]+:error:[0-9A-F]{8}:SSL routines:[A-Za-z0-9_]+:${escape(reason)}:[^\\n]*${alert}\\n$`);
  }

  describe(): string {
    const alert = this.alertNumber === undefined ? '' : ` (alert ${this.alertNumber})`;
    return `${this.prefix}OpenSSL '${this.reason}'${alert}`;
  }
}

export function opensslError(reason: string, alertNumber?: number, prefix = ''): OpenSslMessage {
  return new OpenSslMessage(reason, alertNumber, prefix);
}

function describeMessage(message: string | RegExp): string {
  if (message instanceof OpenSslMessage) return message.describe();
  return typeof message === 'string' ? `'${message}'` : String(message);
}

/** A one-line description of an outcome, for assertion messages. */
export function explain(outcome: Outcome): string {
  const { error: _error, ...rest } = outcome;
  return JSON.stringify(rest);
}

function expectError(actual: ErrorSummary | undefined, expected: ExpectedFailure, outcome: Outcome): void {
  expect(actual, explain(outcome)).to.not.equal(undefined);
  expect(actual?.code, explain(outcome)).to.equal(expected.code);
  if (typeof expected.message === 'string') expect(actual?.message, explain(outcome)).to.equal(expected.message);
  else expect(actual?.message, explain(outcome)).to.match(expected.message);
}

/** Assert the exact failure: code, message and phase; for fetch, `TypeError: fetch failed` with them on `cause`. */
export function expectFailure(outcome: Outcome, expected: ExpectedFailure): void {
  expect(outcome.ok, explain(outcome)).to.equal(false);
  if (outcome.probe === 'fetch') {
    expect(outcome.errorName, explain(outcome)).to.equal('TypeError');
    expect(outcome.message, explain(outcome)).to.equal('fetch failed');
    expectError(outcome.cause, expected, outcome);
  } else {
    expectError({ name: outcome.errorName ?? '', code: outcome.code, message: outcome.message ?? '' }, expected, outcome);
  }
  expect(outcome.phase, explain(outcome)).to.equal(expected.phase);
}

/**
 * Assert a successful exchange: HTTP 200 from this scenario's server, read to the end, over `version` as the
 * server saw it (the body names the negotiated protocol and the client certificate's CN, if any).
 */
export function expectSuccess(
  outcome: Outcome,
  endpoint: Endpoint,
  version: SecureVersion,
  clientCommonName?: string,
): void {
  expect(outcome.ok, explain(outcome)).to.equal(true);
  expect(outcome.phase).to.equal('response');
  expect(outcome.status).to.equal(200);
  const client = clientCommonName === undefined ? '' : ` client=${clientCommonName}`;
  // successLine: the openssl backend answers with s_server's status page, read back into this line (support/backend.ts).
  expect(successLine(outcome.body, endpoint.software)).to.equal(`ok ${endpoint.scenario.id} ${version}${client}\n`);
}

export interface ProbeCase {
  version: SecureVersion;
  /** The CN of the client certificate the server must report (mutual TLS). */
  clientCommonName?: string;
  /**
   * Client options on top of the scenario's (e.g. the fix: `ca`, `servername`, `cert`/`key`). A function is called
   * when the test runs, for options that come from a running endpoint.
   */
  with?: ClientOptions | (() => ClientOptions);
}

/** The title an `it` gets for a failure: the exact outcome, e.g. "tls.connect fails with CERT_HAS_EXPIRED: '…'". */
export function failureTitle(probe: ProbeName, expected: ExpectedFailure): string {
  const where = expected.phase === 'after-secureConnect' ? ' after secureConnect' : '';
  if (probe === 'fetch') {
    return `fetch rejects with TypeError 'fetch failed', cause ${expected.code}: ${describeMessage(expected.message)}`;
  }
  return `${probe} fails${where} with ${expected.code}: ${describeMessage(expected.message)}`;
}

function overrides(probeCase: ProbeCase): ClientOptions {
  return typeof probeCase.with === 'function' ? probeCase.with() : (probeCase.with ?? {});
}

/** fetch hides its socket, so every fetch failure surfaces in the `request` phase. */
export function forProbe(probe: ProbeName, expected: ExpectedFailure): ExpectedFailure {
  return probe === 'fetch' ? { ...expected, phase: 'request' } : expected;
}

/** `it(...)` asserting that `probe` fails exactly as `expected` against the endpoint. */
export function itFails(
  endpoint: () => Endpoint,
  probe: ProbeName,
  expected: ExpectedFailure,
  probeCase: ProbeCase,
): void {
  const exact = forProbe(probe, expected);
  it(failureTitle(probe, exact), async () => {
    const outcome = await endpoint().probe(probe, { ...only(probeCase.version), ...overrides(probeCase) });
    expectFailure(outcome, exact);
  });
}

/** The same failure asserted for every Node probe (tls.connect, https.request, fetch). */
export function itFailsForEveryProbe(endpoint: () => Endpoint, expected: ExpectedFailure, probeCase: ProbeCase): void {
  for (const probe of PROBE_NAMES) itFails(endpoint, probe, expected, probeCase);
}

/** Every Node probe completes an HTTPS exchange. */
export function itSucceedsForEveryProbe(endpoint: () => Endpoint, probeCase: ProbeCase): void {
  for (const probe of PROBE_NAMES) itSucceeds(endpoint, probe, probeCase);
}

/** `it(...)` asserting that `probe` completes an HTTPS exchange against the endpoint. */
export function itSucceeds(endpoint: () => Endpoint, probe: ProbeName, probeCase: ProbeCase): void {
  const as = probeCase.clientCommonName === undefined ? '' : `, client authenticated as ${probeCase.clientCommonName}`;
  it(`${probe} succeeds: HTTP 200 over ${probeCase.version}${as}`, async () => {
    const outcome = await endpoint().probe(probe, { ...only(probeCase.version), ...overrides(probeCase) });
    expectSuccess(outcome, endpoint(), probeCase.version, probeCase.clientCommonName);
  });
}
