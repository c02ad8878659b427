import { fileURLToPath } from 'node:url';
import { writePemFiles } from '../../../certs/pem-files.ts';
import type { ExternalOutcome, Phase } from '../../outcome.ts';
import {
  clientPaths,
  clientPems,
  httpRequest,
  normalizeToolMessage,
  parseHttpResponse,
  runProcess,
  toolStatus,
  type ExternalClient,
  type ToolStatus,
} from './client.ts';

const PYTHON = 'python3';
const SCRIPT = fileURLToPath(new URL('./python-probe.py', import.meta.url));
const STATUS_SCRIPT = 'import ssl, sys; print("Python", sys.version.split()[0], ssl.OPENSSL_VERSION, "at", sys.executable)';

export function pythonStatus(): ToolStatus {
  return toolStatus(PYTHON, ['-c', STATUS_SCRIPT], 'python3 (with ssl)');
}

/**
 * The interpreter itself (sys.executable): `python3` on PATH may be a version manager's shim (pyenv's costs about a
 * second per start), and the batch needs only the interpreter it resolves to.
 */
function interpreter(): string {
  const status = pythonStatus();
  if (!status.available) throw new Error(status.reason);
  return / at (\/.+)$/.exec(status.version)?.[1] ?? PYTHON;
}

/** Python's ssl has no public-key pinning; ALPN, versions, ciphers, CRLs and client certificates it has. */
export function pythonUnsupported(client: ExternalClient): string | undefined {
  if (client.pinnedPublicKey) return "Python's ssl module has no public-key pinning option";
  return undefined;
}

/** One request of the batch, as python-probe.py reads it. */
interface PythonRequest {
  host: string;
  port: number;
  servername?: string;
  cafile?: string;
  certfile?: string;
  keyfile?: string;
  crlfile?: string;
  minVersion?: string;
  maxVersion?: string;
  ciphers?: string;
  alpn?: string[];
  verify: boolean;
  timeout: number;
  http: string;
  via?: 'urllib';
}

/** One outcome of the batch, as python-probe.py prints it. */
interface PythonOutcome {
  ok: boolean;
  phase: Phase;
  errorName?: string;
  message?: string;
  verify?: string;
  cause?: { name: string; message: string };
  protocol?: string | null;
  /** The raw bytes read from the socket (ssl), or the status and body urllib parsed. */
  raw?: string;
  status?: number;
  body?: string;
}

/**
 * Probe many clients with Python's ssl module: one interpreter per distinct environment runs the whole batch
 * (python-probe.py, `concurrency` threads), because starting Python costs far more than a probe.
 */
export async function probePythonMany(clients: readonly ExternalClient[], concurrency = 4): Promise<ExternalOutcome[]> {
  const groups = new Map<string, number[]>();
  clients.forEach((client, index) => {
    const key = JSON.stringify(client.env ?? {});
    groups.set(key, [...(groups.get(key) ?? []), index]);
  });
  const outcomes = new Array<ExternalOutcome>(clients.length);
  await Promise.all(
    [...groups.values()].map(async (indexes) => {
      const batch = indexes.map((index) => clients[index] as ExternalClient);
      const results = await runBatch(batch, concurrency);
      indexes.forEach((index, i) => (outcomes[index] = results[i] as ExternalOutcome));
    }),
  );
  return outcomes;
}

export async function probePython(client: ExternalClient): Promise<ExternalOutcome> {
  const [outcome] = await runBatch([client], 1);
  return outcome as ExternalOutcome;
}

async function runBatch(clients: readonly ExternalClient[], concurrency: number): Promise<ExternalOutcome[]> {
  const files = await writePemFiles(clientPems(clients, 'own-file'));
  try {
    const requests = clients.map((client, i): PythonRequest => {
      const paths = clientPaths(files, i);
      const path = (name: string): string | undefined => paths[name];
      return {
        host: client.host,
        port: client.port,
        ...(client.servername !== undefined ? { servername: client.servername } : {}),
        ...(path('ca.pem') ? { cafile: path('ca.pem') } : {}),
        ...(path('cert.pem') ? { certfile: path('cert.pem'), keyfile: path('key.pem') } : {}),
        ...(path('crl.pem') ? { crlfile: path('crl.pem') } : {}),
        ...(client.minVersion ? { minVersion: client.minVersion } : {}),
        ...(client.maxVersion ? { maxVersion: client.maxVersion } : {}),
        ...(client.ciphers ? { ciphers: client.ciphers } : {}),
        ...(client.ALPNProtocols ? { alpn: client.ALPNProtocols } : {}),
        verify: client.rejectUnauthorized,
        timeout: client.timeoutMs / 1000,
        http: httpRequest(client),
        ...(client.python === 'urllib' ? { via: 'urllib' as const } : {}),
      };
    });
    const rounds = Math.ceil(clients.length / concurrency);
    const longest = Math.max(0, ...clients.map((c) => c.timeoutMs));
    const result = await runProcess(interpreter(), ['-I', SCRIPT, String(concurrency)], {
      input: JSON.stringify(requests),
      timeoutMs: rounds * longest + 10_000,
      env: clients[0]?.env ?? {},
    });
    if (result.exitCode !== 0) {
      throw new Error(`python-probe.py exited ${result.exitCode ?? 'on a kill'}: ${result.stderr}`);
    }
    return (JSON.parse(result.stdout) as PythonOutcome[]).map(toOutcome);
  } finally {
    await files.close();
  }
}

function toOutcome(outcome: PythonOutcome): ExternalOutcome {
  const protocol = outcome.protocol ?? undefined;
  const common = { probe: 'python ssl' as const, ...(protocol ? { protocol } : {}) };
  if (!outcome.ok) {
    return {
      ...common,
      ok: false,
      phase: outcome.phase,
      ...(outcome.errorName !== undefined ? { errorName: outcome.errorName } : {}),
      message: normalizeToolMessage(outcome.message ?? ''),
      ...(outcome.verify !== undefined ? { verify: outcome.verify } : {}),
      ...(outcome.cause ? { cause: { name: outcome.cause.name, message: normalizeToolMessage(outcome.cause.message) } } : {}),
    };
  }
  const response =
    outcome.status !== undefined ? { status: outcome.status, body: outcome.body ?? '' } : parseHttpResponse(outcome.raw ?? '');
  if (!response) {
    // The handshake completed, then the connection ended without a byte of HTTP (and without an error: Python
    // reads an EOF without close_notify as the end of the stream, suppress_ragged_eofs).
    return {
      ...common,
      ok: false,
      phase: 'after-secureConnect',
      code: 'NO_RESPONSE',
      message: 'connection closed without an HTTP response',
    };
  }
  return { ...common, ok: true, phase: 'response', status: response.status, body: response.body };
}
