import { isIP, type AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { normalizeMessage } from '../outcome.ts';
import type { LimboTestcase, TestcaseResult } from './model.ts';
import { skipContext } from './skips.ts';

/**
 * The handshakes themselves: one lane runs one case at a time over its own two servers on 127.0.0.1, and several
 * lanes run side by side. A server is started once per lane and re-armed for every case with setSecureContext (new
 * connections get the new context), so a case costs its contexts and a handshake, not a listen().
 *
 * SERVER case: the lane's presenting server presents the peer certificate and the untrusted intermediates with the
 * peer's key; tls.connect trusts exactly trusted_certs (`ca`), checks `crls` (`crl`), and checks the expected name.
 * CLIENT case: the same chain is the client certificate of a tls.connect to the lane's verifying server, which has
 * requestCert: true, rejectUnauthorized: false and trusts trusted_certs; the verdict is that server's
 * socket.authorized / authorizationError.
 *
 * The presenting side runs at OpenSSL security level 0, so that it can present whatever the case holds (a weak key,
 * a SHA-1 signature); the verifying side keeps Node's defaults, which is what is measured.
 *
 * Both ends are in one thread on purpose. Moving the presenting servers to a worker thread was measured slower on
 * Node 20: its OpenSSL 3.0 decodes PEM keys and certificates under global locks, and two threads loading contexts at
 * once each took twice as long (the runner uses a second process instead, runner.ts).
 */

const PRESENT_ANYTHING = 'DEFAULT:@SECLEVEL=0';

/**
 * A server's own certificate and key, for the servers' first context and the CLIENT-case server, whose certificate the
 * client does not verify (rejectUnauthorized: false). The runner mints it and hands it to its child processes, which
 * then need not load the PKI builder.
 */
export interface OwnCertificate {
  key: string;
  cert: string;
}

export const DEFAULT_CASE_TIMEOUT_MS = 5000;
const CLIENT_ERROR_GRACE_MS = 250;

/** What the CLIENT-case server saw of one connection. */
type ServerVerdict = { authorized: true } | { authorized: false; code: string } | { error: Error };

class Lane {
  private readonly waiting = new Map<number, (verdict: ServerVerdict) => void>();
  private readonly early = new Map<number, ServerVerdict>();

  private constructor(
    private readonly own: OwnCertificate,
    private readonly presenter: tls.Server,
    private readonly verifier: tls.Server,
  ) {
    verifier.on('secureConnection', (socket) => {
      socket.on('error', () => undefined); // the client goes away as soon as it has its answer
      const verdict: ServerVerdict = socket.authorized
        ? { authorized: true }
        : { authorized: false, code: String(socket.authorizationError ?? 'no authorizationError') };
      this.deliver(socket.remotePort, verdict);
      socket.destroy();
    });
    verifier.on('tlsClientError', (error, socket) => this.deliver(socket.remotePort, { error }));
    presenter.on('secureConnection', (socket) => socket.on('error', () => undefined));
    presenter.on('tlsClientError', () => undefined); // the client's verdict is what counts; it has it already
  }

  static async start(own: OwnCertificate): Promise<Lane> {
    const listen = async (server: tls.Server) => {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      return server;
    };
    const presenter = await listen(tls.createServer({ ...own, ciphers: PRESENT_ANYTHING }));
    const verifier = await listen(tls.createServer({ ...own, requestCert: true, rejectUnauthorized: false }));
    return new Lane(own, presenter, verifier);
  }

  async close(): Promise<void> {
    const close = (server: tls.Server) => new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([close(this.presenter), close(this.verifier)]);
  }

  run(testcase: LimboTestcase, timeoutMs = DEFAULT_CASE_TIMEOUT_MS): Promise<TestcaseResult> {
    return testcase.validation_kind === 'SERVER' ? this.runServerCase(testcase, timeoutMs) : this.runClientCase(testcase, timeoutMs);
  }

  private deliver(port: number | undefined, verdict: ServerVerdict): void {
    if (port === undefined) return;
    const waiter = this.waiting.get(port);
    if (waiter) waiter(verdict);
    else this.early.set(port, verdict);
  }

  private async runServerCase(testcase: LimboTestcase, timeoutMs: number): Promise<TestcaseResult> {
    const { id } = testcase;
    try {
      this.presenter.setSecureContext({ key: testcase.peer_certificate_key ?? '', cert: chainPem(testcase), ciphers: PRESENT_ANYTHING });
    } catch (error) {
      return unpresentable(id, 'server', error);
    }
    let secureContext: tls.SecureContext;
    try {
      secureContext = tls.createSecureContext(verifierSettings(testcase));
    } catch (error) {
      return refusedSettings(id, 'client', error);
    }
    const port = (this.presenter.address() as AddressInfo).port;
    const options: tls.ConnectionOptions = { host: '127.0.0.1', port, secureContext, ...nameCheck(testcase) };
    let socket: tls.TLSSocket;
    try {
      socket = tls.connect(options);
    } catch (error) {
      // e.g. a servername OpenSSL refuses: the client gives up before any handshake, as an application's would.
      return failure(id, error, testcase, 'tls.connect threw');
    }
    return new Promise((resolve) => {
      let settled = false;
      const settle = (result: TestcaseResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(result);
      };
      const timer = setTimeout(() => settle(timedOut(id, timeoutMs)), timeoutMs);
      // rejectUnauthorized is Node's default (true): secureConnect means the chain and the name were accepted.
      socket.once('secureConnect', () => settle({ id, actual_result: 'SUCCESS', context: null }));
      socket.on('error', (error) => settle(failure(id, error, testcase)));
      socket.once('close', () => settle(failure(id, new Error('the connection closed before the handshake completed'), testcase)));
    });
  }

  private async runClientCase(testcase: LimboTestcase, timeoutMs: number): Promise<TestcaseResult> {
    const { id } = testcase;
    let secureContext: tls.SecureContext;
    try {
      secureContext = tls.createSecureContext({
        key: testcase.peer_certificate_key ?? '',
        cert: chainPem(testcase),
        ciphers: PRESENT_ANYTHING,
      });
    } catch (error) {
      return unpresentable(id, 'client', error);
    }
    try {
      this.verifier.setSecureContext({ ...this.own, ...verifierSettings(testcase) });
    } catch (error) {
      return refusedSettings(id, 'server', error);
    }
    const port = (this.verifier.address() as AddressInfo).port;
    // One case at a time per lane: a verdict left over from an earlier case (one that arrived after it timed out)
    // must not be taken for this one's if the port comes round again.
    this.early.clear();
    this.waiting.clear();
    return new Promise((resolve) => {
      let settled = false;
      let localPort: number | undefined;
      let clientError: Error | undefined;
      const settle = (result: TestcaseResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (localPort !== undefined) {
          this.waiting.delete(localPort);
          this.early.delete(localPort);
        }
        socket.destroy();
        resolve(result);
      };
      const onVerdict = (verdict: ServerVerdict) => {
        if ('error' in verdict) settle(failure(id, verdict.error, testcase, "the server's tlsClientError"));
        else if (verdict.authorized) settle({ id, actual_result: 'SUCCESS', context: null });
        else
          settle({
            id,
            actual_result: 'FAILURE',
            context: `${verdict.code} (the server's authorizationError; Node sets no message there)${crlNote(verdict.code, testcase)}`,
          });
      };
      // The server's certificate is a throwaway: only the server's judgement of the client's chain is measured.
      const socket = tls.connect({ host: '127.0.0.1', port, secureContext, rejectUnauthorized: false });
      const timer = setTimeout(() => {
        if (clientError === undefined) settle(timedOut(id, timeoutMs));
        else settle(failure(id, clientError, testcase, 'the client gave up and the server gave no verdict'));
      }, timeoutMs);
      socket.once('connect', () => {
        localPort = socket.localPort;
        if (localPort === undefined) return;
        const early = this.early.get(localPort);
        if (early) onVerdict(early);
        else this.waiting.set(localPort, onVerdict);
      });
      // The server decides. The client's own error (a refused connection, an alert before its certificate went out)
      // only counts when the server has nothing to say: once the client's socket has closed, the server's verdict, if
      // any, follows within a turn or two of the event loop; after CLIENT_ERROR_GRACE_MS the client's error stands.
      socket.on('error', (error) => void (clientError ??= error));
      socket.once('close', () => {
        if (clientError === undefined) return;
        const error = clientError;
        setTimeout(() => settle(failure(id, error, testcase, 'the client gave up and the server gave no verdict')), CLIENT_ERROR_GRACE_MS);
      });
    });
  }
}

/** The peer's certificate followed by the untrusted intermediates, as one PEM bundle (the `cert` option). */
function chainPem(testcase: LimboTestcase): string {
  return [testcase.peer_certificate, ...testcase.untrusted_intermediates].map((pem) => pem.trim()).join('\n') + '\n';
}

/** The verifier's trust and revocation settings: exactly trusted_certs (no default roots), and the case's CRLs. */
function verifierSettings(testcase: LimboTestcase): tls.SecureContextOptions {
  return { ca: testcase.trusted_certs, ...(testcase.crls.length > 0 ? { crl: testcase.crls } : {}) };
}

/** A name SNI can carry: ASCII labels, not an IP literal (RFC 6066 §3 forbids those in SNI). */
function sniCarries(name: string): boolean {
  return isIP(name) === 0 && /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(name);
}

/**
 * How the client checks the expected name. A DNS name goes out as SNI (`servername`) and Node's default
 * checkServerIdentity checks it; an IP address (or a name SNI cannot carry) is checked by calling
 * tls.checkServerIdentity with it from a checkServerIdentity option, since the connection itself is to 127.0.0.1.
 * No expected name: no name check at all (checkServerIdentity accepts), the chain is still verified.
 */
function nameCheck(testcase: LimboTestcase): Pick<tls.ConnectionOptions, 'servername' | 'checkServerIdentity'> {
  const name = testcase.expected_peer_name;
  if (name === null) return { checkServerIdentity: () => undefined };
  if (name.kind === 'DNS' && sniCarries(name.value)) return { servername: name.value };
  return { checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name.value, cert) };
}

function errorText(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : error instanceof Error ? error.name : 'Error';
  return `${code}: ${normalizeMessage(String(e.message ?? error))}`;
}

/** Node needs a CRL from every CA of the chain (CRL_CHECK_ALL): say so where a missing one is what failed. */
function crlNote(code: string, testcase: LimboTestcase): string {
  if (code !== 'UNABLE_TO_GET_CRL') return '';
  return ` (Node's crl option checks every certificate of the chain: it needs a CRL from each CA, and the case gives ${testcase.crls.length})`;
}

function failure(id: string, error: unknown, testcase: LimboTestcase, where?: string): TestcaseResult {
  const code = String((error as { code?: unknown }).code ?? '');
  return { id, actual_result: 'FAILURE', context: `${where ? `${where}: ` : ''}${errorText(error)}${crlNote(code, testcase)}` };
}

/** A timeout is a FAILURE (no verdict is not an acceptance) whose context starts with `timeout:`. */
function timedOut(id: string, timeoutMs: number): TestcaseResult {
  return { id, actual_result: 'FAILURE', context: `timeout: no verdict within ${timeoutMs} ms` };
}

/** The presenting side cannot load the case's material: no handshake took place, so nothing was measured. */
function unpresentable(id: string, side: 'server' | 'client', error: unknown): TestcaseResult {
  const reason = `a Node ${side} cannot present this certificate and key (${errorText(error)}): no handshake, nothing measured`;
  return { id, actual_result: 'SKIPPED', context: skipContext([{ feature: 'unpresentable', reason }]) };
}

/** The verifying side refuses its trust settings: as an application would, it cannot accept anything. */
function refusedSettings(id: string, side: 'server' | 'client', error: unknown): TestcaseResult {
  return { id, actual_result: 'FAILURE', context: `the ${side} refuses trusted_certs or crls before any handshake: ${errorText(error)}` };
}

/** Where lanes get their next case: undefined when there is none left. */
type CaseSource = () => Promise<LimboTestcase | undefined> | LimboTestcase | undefined;

/**
 * Run the cases `next` hands out over `jobs` lanes in this process, reporting each result as it comes; every lane's
 * servers are closed before this returns or throws.
 */
export async function runLanes(
  own: OwnCertificate,
  next: CaseSource,
  jobs: number,
  timeoutMs: number,
  record: (result: TestcaseResult) => void,
): Promise<void> {
  const started = await Promise.allSettled(Array.from({ length: jobs }, () => Lane.start(own)));
  const lanes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    await Promise.all(
      lanes.map(async (lane) => {
        for (let testcase = await next(); testcase !== undefined; testcase = await next()) record(await lane.run(testcase, timeoutMs));
      }),
    );
  } finally {
    await Promise.all(lanes.map((lane) => lane.close()));
  }
}

/** Run a list of cases over `jobs` lanes in this process; results in the order given. */
export async function runInProcess(
  own: OwnCertificate,
  testcases: readonly LimboTestcase[],
  jobs: number,
  timeoutMs: number,
): Promise<TestcaseResult[]> {
  const results = new Map<string, TestcaseResult>();
  let index = 0;
  await runLanes(
    own,
    () => testcases[index++],
    Math.min(jobs, testcases.length),
    timeoutMs,
    (result) => results.set(result.id, result),
  );
  return testcases.map((testcase) => results.get(testcase.id) as TestcaseResult);
}

/** What a helper process and its parent say to each other over the IPC channel. */
export type HelperMessage =
  | { kind: 'want' }
  | { kind: 'result'; result: TestcaseResult }
  | { kind: 'case'; testcase: LimboTestcase | null }
  | { kind: 'start'; jobs: number; timeoutMs: number; own: OwnCertificate };

/** What the parent sends a faketime child on stdin. */
export interface ChildRequest {
  at: string;
  own: OwnCertificate;
  testcases: LimboTestcase[];
  timeoutMs: number;
}
