/** The clients the harness can drive. */
export type ProbeName = 'tls.connect' | 'https.request' | 'fetch';

/**
 * Where a failure surfaced:
 * - `call`: the client call itself threw, before any connection (options OpenSSL refuses);
 * - `handshake`: before the client's `secureConnect`;
 * - `after-secureConnect`: the client finished its side of the handshake, then the server said no (TLS 1.3 client auth);
 * - `request`: inside `fetch`, which hides the socket, so only "the request failed" is observable;
 * - `response`: a response was read to its end (the success phase).
 */
export type Phase = 'call' | 'handshake' | 'after-secureConnect' | 'request' | 'response';

export interface ErrorSummary {
  name: string;
  code?: string;
  message: string;
}

/** What one probe observed. A probe never throws for a TLS failure; it returns one of these. */
export interface Outcome {
  probe: ProbeName;
  ok: boolean;
  phase: Phase;
  /** The error's `code` (for fetch: undefined, the code is on `cause`). */
  code?: string;
  message?: string;
  /** The error's class name, e.g. `Error` or `TypeError`. */
  errorName?: string;
  /** The error's `cause` (fetch wraps the TLS error in `TypeError: fetch failed`). */
  cause?: ErrorSummary;
  /** The raw error, for scenario-specific fields such as `reason`, `host` and `cert`. */
  error?: Error & Record<string, unknown>;
  /** Negotiated protocol (`TLSv1.3`, `TLSv1.2`) when the handshake got that far. */
  protocol?: string;
  authorized?: boolean;
  authorizationError?: string;
  /** The client's TCP port (socket probes only), which ties the outcome to the server's view of it. */
  localPort?: number;
  /** HTTP status and body when a response was read. */
  status?: number;
  body?: string;
}

function summarize(error: unknown): ErrorSummary {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: typeof error, message: String(error) };
}

/** The outcome of a failed probe, from the error it raised. */
export function failure(probe: ProbeName, phase: Phase, error: unknown, extra: Partial<Outcome> = {}): Outcome {
  const summary = summarize(error);
  const cause = error instanceof Error && error.cause !== undefined ? summarize(error.cause) : undefined;
  return {
    probe,
    ok: false,
    phase,
    errorName: summary.name,
    message: summary.message,
    ...(summary.code !== undefined ? { code: summary.code } : {}),
    ...(cause ? { cause } : {}),
    ...(error instanceof Error ? { error: error as Error & Record<string, unknown> } : {}),
    ...extra,
  };
}

/** External clients the harness drives as child processes (harness/probes/external/). */
export type ExternalProbeName = 'curl' | 'openssl s_client' | 'python ssl';

/**
 * What one external client observed: the Outcome model, plus what each tool itself reports. Messages are stored
 * normalized (see normalizeToolMessage): no thread ids, source lines, ports or timings.
 * - curl: `exitCode` and its error line `curl: (N) <message>`;
 * - openssl s_client: `exitCode`, `verify` (`Verify return code: N (reason)`), `alerts` (its `-state` alert lines)
 *   and `message` (the OpenSSL error lines);
 * - python ssl: `errorName` (the exception class, e.g. SSLCertVerificationError) and `message` (`str(exception)`).
 */
export interface ExternalOutcome {
  probe: ExternalProbeName;
  ok: boolean;
  /** `handshake` or `after-secureConnect` where the tool shows it (s_client, python); `request` for curl (opaque). */
  phase: Phase;
  /** The process exit code (curl, s_client); undefined when the harness had to kill the process. */
  exitCode?: number;
  /** True when the harness killed the process at its timeout (a tool without a timeout of its own). */
  killed?: boolean;
  /**
   * The harness's verdict where the tool reports no error of its own: `NO_RESPONSE` (the connection ended without
   * an HTTP response), `PROBE_TIMEOUT` (killed at the timeout).
   */
  code?: 'NO_RESPONSE' | 'PROBE_TIMEOUT';
  /** The tool's error, normalized: curl's message after `curl: (N) `, s_client's error lines, python's str(e). */
  message?: string;
  /** The exception class (python). */
  errorName?: string;
  /** The wrapped error (python urllib's URLError carries the ssl error as its `reason`). */
  cause?: ErrorSummary;
  /** s_client's `Verify return code: N (reason)` as `N (reason)`; python's `verify_code` (verify_message). */
  verify?: string;
  /** s_client's own report of the failed check, `verify error:num=N:reason`, as `N:reason` (both TLS versions). */
  verifyError?: string;
  /** Alerts as s_client's `-state` prints them, e.g. `write:fatal:certificate expired`. */
  alerts?: string[];
  /** Negotiated protocol (`TLSv1.3`, `TLSv1.2`) when the tool reports it. */
  protocol?: string;
  status?: number;
  body?: string;
}

/**
 * Strip what varies between runs and builds — an OpenSSL error line's thread id prefix and source file and line,
 * fingerprints of this run's certificates — and keep what the error means: packed code, library, function, reason,
 * and the alert number.
 */
export function normalizeMessage(message: string): string {
  return stripOpenSslLocation(message).replace(FINGERPRINT, '<fingerprint>');
}

/** A colon-separated SHA-1/SHA-256 fingerprint: it names a certificate minted for this run only. */
const FINGERPRINT = /\b(?:[0-9A-F]{2}:){19,31}[0-9A-F]{2}\b/g;

function stripOpenSslLocation(message: string): string {
  return message.replace(
    /(?:^|(?<=\s))[0-9A-F]+:error:([0-9A-F]{8}):([^:]+):([^:]+):([^:\n]+):[^\n]*?(?::SSL alert number (\d+))?\n?$/,
    (_match, code: string, lib: string, func: string, reason: string, alert: string | undefined) =>
      `error:${code}:${lib}:${func}:${reason}${alert ? ` (SSL alert number ${alert})` : ''}`,
  );
}

/** An outcome in one line, as diagnose compares them: `ok (HTTP 200)` or `CODE: message` (fetch: `TypeError fetch failed ← CODE: message`). */
export function describeOutcome(outcome: Outcome): string {
  if (outcome.ok) return `ok (HTTP ${outcome.status})`;
  const own = `${outcome.code ?? outcome.errorName}: ${normalizeMessage(outcome.message ?? '')}`;
  const phase = outcome.phase === 'after-secureConnect' ? ' [after secureConnect]' : '';
  if (outcome.probe === 'fetch' && outcome.cause) {
    return `${outcome.errorName} ${outcome.message} ← ${outcome.cause.code ?? outcome.cause.name}: ${normalizeMessage(outcome.cause.message)}`;
  }
  return own + phase;
}
