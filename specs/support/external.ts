import { X509Certificate } from 'node:crypto';
import type { SecureVersion } from 'node:tls';
import { expect } from 'chai';
import { SCENARIOS, scenarioMaterial, startEndpoint, type Endpoint, type Scenario, type ScenarioMaterial } from '../../harness/index.ts';
import type { ExternalOutcome, ExternalProbeName, Phase } from '../../harness/outcome.ts';
import { DEFAULT_PROBE_TIMEOUT_MS } from '../../harness/probes/options.ts';
import {
  EXTERNAL_PROBES,
  EXTERNAL_PROBE_NAMES,
  NODE_ONLY_OPTIONS,
  externalClient,
  nodeOnlyOptions,
  type ExternalClient,
  type NodeOnlyOption,
} from '../../harness/probes/external/index.ts';

// ---- What a spec expects of one external client ------------------------------------------------------------------

/** A complete HTTPS exchange: HTTP 200 from the scenario's server over `version` (default: the pinned one, else TLSv1.3). */
export interface ToolSuccess {
  kind: 'ok';
  version?: SecureVersion;
  /** s_client only: its `Verify return code` on success (with verification switched off it names the failure). */
  verify?: string;
}

/** curl's exit code and the message of its error line `curl: (N) <message>`. */
export interface CurlFailure {
  kind: 'curl';
  exit: number;
  error: string;
}

/**
 * openssl s_client: exit code 1, its `Verify return code: N (reason)` summary line (`verify`), the `verify error:num=`
 * line it prints when a check fails, the alerts of `-state`, its error lines (normalized), and where the failure
 * surfaced. `code` for what the harness concludes where s_client reports nothing (NO_RESPONSE, PROBE_TIMEOUT).
 */
export interface SClientFailure {
  kind: 's_client';
  /** Default 1. s_client exits with the errno of a failed socket read (`read:errno=104` → 104). */
  exit?: number;
  verify?: string;
  verifyError?: string;
  alerts?: string[];
  error?: string;
  phase: Phase;
  code?: 'NO_RESPONSE' | 'PROBE_TIMEOUT';
}

/** Python: the exception class and str(exception) (normalized), or the harness's NO_RESPONSE; and where it surfaced. */
export interface PythonFailure {
  kind: 'python';
  raises?: string;
  message: string;
  phase: Phase;
  code?: 'NO_RESPONSE';
  /** The exception it wraps (urllib's URLError: its `reason`). */
  cause?: { raises: string; message: string };
}

/** The table cannot grade this tool for this scenario; the spec is pending with the reason. */
export interface Pending {
  kind: 'pending';
  reason: string;
}

export type Failure = CurlFailure | SClientFailure | PythonFailure;

/** What one probe must observe. */
export type Expected<T = Failure> = T | ToolSuccess;

/** One cell of the table for one probe: an expectation, or pending with a reason. */
export type Single<T> = Expected<T> | Pending;

/** A different expectation per pinned TLS version: the spec probes both. */
export interface PerVersion<T> {
  kind: 'per-version';
  'TLSv1.3': Single<T>;
  'TLSv1.2': Single<T>;
}

export type Cell<T> = Single<T> | PerVersion<T>;

/** A tool's own way to do what a Node-only client option does (e.g. curl's --pinnedpubkey for a pinning checkServerIdentity). */
export interface Counterpart {
  /** The Node-only option(s) it stands in for. */
  replaces: NodeOnlyOption[];
  /** How the title says it, e.g. "with --pinnedpubkey". */
  says: string;
  /** The client settings, for the scenario as declared and with its fix applied. */
  client(variant: Variant): Promise<Partial<ExternalClient>> | Partial<ExternalClient>;
}

export type Variant = 'broken' | 'fixed';

/** One catalog scenario as the three external clients see it. */
export interface ExternalRow {
  curl: Cell<CurlFailure>;
  sClient: Cell<SClientFailure>;
  python: Cell<PythonFailure>;
  /**
   * The same clients against the scenario with its fix applied (startEndpoint(id, { fixed: true })). Default for a
   * scenario that declares a fix: every tool succeeds (per TLS version where the broken cell is per version).
   */
  fixed?: Partial<{ curl: Cell<CurlFailure>; sClient: Cell<SClientFailure>; python: Cell<PythonFailure> }>;
  /** The server never starts (server-configuration): no client connects; only the fix is probed. */
  serverNeverStarts?: string;
  /** Environment of the tools' processes, for a scenario about one (and to show it is Node's alone). */
  env?: Record<string, string>;
  counterparts?: Partial<Record<ToolKey, Counterpart>>;
}

export type ToolKey = 'curl' | 'sClient' | 'python';
export const TOOL_KEYS: Record<ExternalProbeName, ToolKey> = { curl: 'curl', 'openssl s_client': 'sClient', 'python ssl': 'python' };

// ---- Builders: the table reads as what each tool prints --------------------------------------------------------

export const OK: ToolSuccess = { kind: 'ok' };
export function ok(options: { version?: SecureVersion; verify?: string } = {}): ToolSuccess {
  return { kind: 'ok', ...options };
}
export function pending(reason: string): Pending {
  return { kind: 'pending', reason };
}
export function perVersion<T>(tls13: Single<T>, tls12: Single<T>): PerVersion<T> {
  return { kind: 'per-version', 'TLSv1.3': tls13, 'TLSv1.2': tls12 };
}

/** curl exits `exit` and prints `curl: (exit) error`. */
export function curl(exit: number, error: string): CurlFailure {
  return { kind: 'curl', exit, error };
}

/** The error line s_client prints for every failed certificate check (with -verify_return_error). */
export const S_CLIENT_VERIFY_FAILED = 'error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed';

/**
 * s_client refusing the server's certificate: `verify error:num=N:reason` on stderr, the alert it sends, the
 * 'certificate verify failed' error line, and the summary line `Verify return code: N (reason)`.
 * Probed with s_client's default version (TLS 1.3). Over TLS 1.2 the check and the alert are the same, but the
 * summary's `Verify return code` is the never-established session's: `0 (ok)` (see the spec).
 */
export function sClientRejects(code: number, reason: string, alert: string, extra: Partial<SClientFailure> = {}): SClientFailure {
  return {
    kind: 's_client',
    verify: `${code} (${reason})`,
    verifyError: `${code}:${reason}`,
    alerts: [`write:fatal:${alert}`],
    error: S_CLIENT_VERIFY_FAILED,
    phase: 'handshake',
    ...extra,
  };
}

/** s_client failing for another reason than the certificate: its summary still says `Verify return code: 0 (ok)`. */
export function sClientFails(failure: Omit<SClientFailure, 'kind' | 'phase'> & { phase?: Phase }): SClientFailure {
  return { kind: 's_client', verify: '0 (ok)', phase: 'handshake', ...failure };
}

/** Python's ssl refusing the server's certificate: SSLCertVerificationError with OpenSSL's verify reason. */
export function pythonRejects(reason: string): PythonFailure {
  return {
    kind: 'python',
    raises: 'SSLCertVerificationError',
    message: `[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: ${reason} (_ssl.c)`,
    phase: 'handshake',
  };
}

/** Python raising `raises` with str(exception) `message`. */
export function pythonRaises(raises: string, message: string, phase: Phase = 'handshake'): PythonFailure {
  return { kind: 'python', raises, message, phase };
}

/**
 * urllib.request.urlopen's URLError around an exception raised while it opened the connection: str() is
 * `<urlopen error MESSAGE>`, `reason` the original. urlopen hides the socket, so the phase is `request`.
 */
export function urlError(reason: PythonFailure): PythonFailure {
  return {
    kind: 'python',
    raises: 'URLError',
    message: `<urlopen error ${reason.message}>`,
    phase: 'request',
    cause: { raises: reason.raises ?? '', message: reason.message },
  };
}

// ---- Titles and assertions -------------------------------------------------------------------------------------

const PHASE_WORDS: Partial<Record<Phase, string>> = { 'after-secureConnect': ' after the handshake' };

function quote(text: string): string {
  return `'${text}'`;
}

export function title(tool: string, expected: Expected, version: SecureVersion | undefined, clientCommonName?: string): string {
  const over = version ? ` over ${version}` : '';
  if (expected.kind === 'ok') {
    const negotiated = version ?? expected.version ?? 'TLSv1.3';
    const as = clientCommonName ? `, client authenticated as ${clientCommonName}` : '';
    const verify = expected.verify ? ` (Verify return code: ${expected.verify})` : '';
    return `${tool} succeeds: HTTP 200 over ${negotiated}${as}${verify}`;
  }
  if (expected.kind === 'curl') return `${tool}${over} exits ${expected.exit}: ${quote(`curl: (${expected.exit}) ${expected.error}`)}`;
  if (expected.kind === 's_client') {
    if (expected.code === 'PROBE_TIMEOUT') return `${tool}${over} is still waiting for the ServerHello when the harness kills it: it has no handshake timeout`;
    const parts = [
      ...(expected.verifyError ? [`verify error:num=${expected.verifyError}`] : []),
      ...(expected.alerts ?? []).map((alert) => `alert ${alert}`),
      ...(expected.error ? [quote(expected.error.replace(/\n/g, ' | '))] : []),
      ...(expected.code === 'NO_RESPONSE' ? ['no error line, no response'] : []),
      ...(expected.verify ? [`Verify return code: ${expected.verify}`] : []),
    ];
    return `${tool}${over} exits ${expected.exit ?? 1}${PHASE_WORDS[expected.phase] ?? ''}: ${parts.join(', ')}`;
  }
  const where = PHASE_WORDS[expected.phase] ?? '';
  if (expected.code === 'NO_RESPONSE') return `${tool}${over} raises nothing: the handshake completes, then the connection ends without a response`;
  const wraps = expected.cause ? `, reason ${expected.cause.raises}` : '';
  return `${tool}${over} raises ${expected.raises}${where}: ${quote(expected.message)}${wraps}`;
}

export interface AssertionContext {
  scenario: Scenario;
  version: SecureVersion | undefined;
  clientCommonName: string | undefined;
}

/** The fields of an outcome that `expected` pins, in the shape of `expected`: compared with deep equality. */
function observed(outcome: ExternalOutcome, expected: Failure | ToolSuccess): Record<string, unknown> {
  if (expected.kind === 'ok') {
    return {
      ok: outcome.ok,
      status: outcome.status,
      body: outcome.body,
      ...(expected.verify !== undefined ? { verify: outcome.verify } : {}),
    };
  }
  if (expected.kind === 'curl') return { ok: outcome.ok, exit: outcome.exitCode, error: outcome.message };
  if (expected.kind === 's_client') {
    return {
      ok: outcome.ok,
      exit: outcome.exitCode,
      code: outcome.code,
      verify: outcome.verify,
      verifyError: outcome.verifyError,
      alerts: outcome.alerts,
      error: outcome.message,
      phase: outcome.phase,
    };
  }
  return {
    ok: outcome.ok,
    raises: outcome.errorName,
    message: outcome.message,
    phase: outcome.phase,
    code: outcome.code,
    cause: outcome.cause ? { raises: outcome.cause.name, message: outcome.cause.message } : undefined,
  };
}

function wanted(expected: Failure | ToolSuccess, context: AssertionContext): Record<string, unknown> {
  if (expected.kind === 'ok') {
    const negotiated = context.version ?? expected.version ?? 'TLSv1.3';
    const client = context.clientCommonName === undefined ? '' : ` client=${context.clientCommonName}`;
    return {
      ok: true,
      status: 200,
      body: `ok ${context.scenario.id} ${negotiated}${client}\n`,
      ...(expected.verify !== undefined ? { verify: expected.verify } : {}),
    };
  }
  if (expected.kind === 'curl') return { ok: false, exit: expected.exit, error: expected.error };
  if (expected.kind === 's_client') {
    return {
      ok: false,
      exit: expected.code === 'PROBE_TIMEOUT' ? undefined : (expected.exit ?? 1),
      code: expected.code,
      verify: expected.verify,
      verifyError: expected.verifyError,
      alerts: expected.alerts,
      error: expected.error,
      phase: expected.phase,
    };
  }
  return { ok: false, raises: expected.raises, message: expected.message, phase: expected.phase, code: expected.code, cause: expected.cause };
}

/** Assert the exact outcome. */
export function assertOutcome(outcome: ExternalOutcome, expected: Expected, context: AssertionContext): void {
  expect(observed(outcome, expected), JSON.stringify(outcome)).to.deep.equal(wanted(expected, context));
}

// ---- The plan: every (scenario, variant, tool, version) the table asks for, probed in one go --------------------

export interface ExternalCase {
  scenario: Scenario;
  variant: Variant;
  tool: ExternalProbeName;
  /** The pinned version, or undefined for the tool's default (or the scenario's own versions). */
  version: SecureVersion | undefined;
  expected: Expected;
  counterpart: Counterpart | undefined;
  row: ExternalRow;
  /** Client settings on top of the scenario's (e.g. Python through urllib). */
  extra: Partial<ExternalClient>;
  /** Filled in by the `before` hook. */
  outcome?: ExternalOutcome;
  /** Why this case cannot be graded (a Node-only option, a setting the tool lacks): the test fails with it. */
  problem?: string;
}

function cellsOf(cell: Cell<Failure>): Array<{ version: SecureVersion | undefined; value: Single<Failure> }> {
  if (cell.kind === 'per-version') return (['TLSv1.3', 'TLSv1.2'] as const).map((version) => ({ version, value: cell[version] }));
  return [{ version: undefined, value: cell }];
}

function fixedCell(broken: Cell<Failure>, fixed: Cell<Failure> | undefined): Cell<Failure> {
  if (fixed !== undefined) return fixed;
  return broken.kind === 'per-version' ? perVersion<Failure>(OK, OK) : OK;
}

/**
 * Define the tests for one scenario and tool: a pending test per pending cell, an `it` per probe otherwise. Returns
 * the cases, which the caller probes in its `before` hook (probeAll).
 */
export function itProbes(
  scenario: Scenario,
  material: ScenarioMaterial,
  variant: Variant,
  tool: ExternalProbeName,
  row: ExternalRow,
  options: { as?: string; client?: Partial<ExternalClient> } = {},
): ExternalCase[] {
  const name = options.as ?? tool;
  const key = TOOL_KEYS[tool];
  const present = (variant === 'fixed' ? (material.fixed?.client ?? material.client) : material.client).present;
  const clientCommonName = present ? commonName(present.certPem) : undefined;
  const cell: Cell<Failure> = variant === 'broken' ? row[key] : fixedCell(row[key], row.fixed?.[key]);
  const status = EXTERNAL_PROBES[tool].status();
  const counterpart = row.counterparts?.[key];
  const cases: ExternalCase[] = [];
  for (const { version, value } of cellsOf(cell)) {
    if (value.kind === 'pending') {
      const over = version ? ` over ${version}` : '';
      it(`${name}${over}: pending — ${value.reason}`, function () {
        this.skip();
      });
      continue;
    }
    const probeCase: ExternalCase = { scenario, variant, tool, version, expected: value, counterpart, row, extra: options.client ?? {} };
    cases.push(probeCase);
    const says = counterpart ? ` (${counterpart.says})` : '';
    it(`${title(name, value, version, clientCommonName)}${says}`, function () {
      if (!status.available) this.skip();
      if (probeCase.problem) throw new Error(probeCase.problem);
      if (!probeCase.outcome) throw new Error(`no outcome: ${tool} was not run for ${scenario.id} (${variant})`);
      assertOutcome(probeCase.outcome, value, { scenario, version, clientCommonName });
    });
  }
  return cases;
}

/** The subject CN of a PEM certificate (what the harness server reports as `client=`). */
function commonName(certPem: string): string | undefined {
  return /(?:^|\n)CN=([^\n]*)/.exec(new X509Certificate(certPem).subject)?.[1];
}

/**
 * Start every endpoint the cases need, build each case's client, run each installed tool over all of its cases at
 * once (bounded concurrency; one process per batch where the tool allows), and store the outcomes on the cases.
 * Returns the endpoints, for closing.
 */
export async function probeAll(cases: ExternalCase[], concurrency = 4): Promise<Endpoint[]> {
  const endpoints = new Map<string, Promise<Endpoint>>();
  const endpointFor = (probeCase: ExternalCase) => {
    const key = `${probeCase.scenario.id}:${probeCase.variant}`;
    let endpoint = endpoints.get(key);
    if (!endpoint) {
      endpoint = startEndpoint(probeCase.scenario, { fixed: probeCase.variant === 'fixed' });
      endpoints.set(key, endpoint);
    }
    return endpoint;
  };
  const started: Endpoint[] = [];
  try {
    const clients = await Promise.all(
      cases.map(async (probeCase) => {
        let endpoint: Endpoint;
        try {
          endpoint = await endpointFor(probeCase);
        } catch (error) {
          // One server that does not start fails its own tests, not the whole file.
          probeCase.problem = `the ${probeCase.variant} endpoint of ${probeCase.scenario.id} did not start: ${(error as Error).message}`;
          return undefined;
        }
        if (!started.includes(endpoint)) started.push(endpoint);
        return clientFor(probeCase, endpoint);
      }),
    );
    await Promise.all(
      EXTERNAL_PROBE_NAMES.filter((tool) => EXTERNAL_PROBES[tool].status().available).map(async (tool) => {
        const runnable = cases.flatMap((probeCase, index) => {
          const client = clients[index];
          return probeCase.tool === tool && client ? [{ probeCase, client }] : [];
        });
        const outcomes = await EXTERNAL_PROBES[tool].probeMany(
          runnable.map((r) => r.client),
          concurrency,
        );
        runnable.forEach((r, index) => (r.probeCase.outcome = outcomes[index]));
      }),
    );
  } catch (error) {
    await Promise.all([...endpoints.values()].map(async (endpoint) => (await endpoint.catch(() => undefined))?.close()));
    throw error;
  }
  return started;
}

/** The external client for one case, or undefined (with `problem` set) when the tool cannot reproduce it. */
async function clientFor(probeCase: ExternalCase, endpoint: Endpoint): Promise<ExternalClient | undefined> {
  const { row, counterpart, tool, version } = probeCase;
  const own = endpoint.clientOptions();
  if (version && (own.minVersion || own.maxVersion)) {
    probeCase.problem = `${probeCase.scenario.id} sets the client's TLS versions itself: its ${tool} cell cannot be per version`;
    return undefined;
  }
  const nodeOnly = nodeOnlyOptions(own).filter((option) => !counterpart?.replaces.includes(option));
  if (nodeOnly.length > 0) {
    probeCase.problem =
      `${probeCase.scenario.id}'s client sets ${nodeOnly.join(', ')} (${nodeOnly.map((o) => NODE_ONLY_OPTIONS[o]).join('; ')}): ` +
      `${tool} cannot express it, so its cell must be pending with that reason, or name ${tool}'s counterpart`;
    return undefined;
  }
  const pin = version ? { minVersion: version, maxVersion: version } : {};
  const extra = {
    // A scenario's short bound (ClientSetup.timeoutMs) is for waiting on its broken server. The fixed server
    // answers, and an external client's bound includes starting its process: the fix gets the default bound.
    ...(probeCase.variant === 'fixed' && (own.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS) < DEFAULT_PROBE_TIMEOUT_MS
      ? { timeoutMs: DEFAULT_PROBE_TIMEOUT_MS }
      : {}),
    ...(row.env ? { env: row.env } : {}),
    ...(counterpart ? await counterpart.client(probeCase.variant) : {}),
    ...probeCase.extra,
  };
  const client = externalClient(endpoint, pin, extra);
  const unsupported = EXTERNAL_PROBES[tool].unsupported(client);
  if (unsupported) {
    probeCase.problem = `${tool} cannot reproduce ${probeCase.scenario.id}: ${unsupported} (mark the cell pending with this reason)`;
    return undefined;
  }
  return client;
}

/** Scenarios of the catalog that have no row in `table`, and rows that name no scenario of the catalog. */
export function tableGaps(table: Record<string, ExternalRow>): { missing: Scenario[]; unknown: string[] } {
  const ids = new Set(SCENARIOS.map((s) => s.id));
  return { missing: SCENARIOS.filter((s) => !(s.id in table)), unknown: Object.keys(table).filter((id) => !ids.has(id)) };
}

/**
 * Every scenario's material, by id. Building it is asynchronous and mocha defines tests synchronously, so a spec
 * awaits this at load time to know which scenarios declare a fix and which client certificate each presents (the
 * PKI is built once per process anyway, and every other spec uses the same material).
 */
export async function loadMaterials(): Promise<Map<string, ScenarioMaterial | Error>> {
  // A scenario whose setup throws must not stop the spec file from loading: its error becomes a failing test.
  const load = (s: Scenario) => scenarioMaterial(s).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  return new Map(await Promise.all(SCENARIOS.map(async (s) => [s.id, await load(s)] as const)));
}
