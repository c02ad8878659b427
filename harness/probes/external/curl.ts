import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { domainToASCII } from 'node:url';
import { writePemFiles } from '../../../certs/pem-files.ts';
import type { ExternalOutcome } from '../../outcome.ts';
import {
  VERSION_NUMBERS,
  clientPaths,
  clientPems,
  normalizeToolMessage,
  runProcess,
  toolStatus,
  type ExternalClient,
  type ToolStatus,
} from './client.ts';

const CURL = 'curl';

/** curl 7.75 added the --write-out variables the batch reads (%{exitcode}, %{errormsg}, %{urlnum}). */
const MINIMUM_VERSION = [7, 75];

export function curlStatus(): ToolStatus {
  const status = toolStatus(CURL, ['--version'], 'curl');
  if (!status.available) return status;
  const [major = 0, minor = 0] = (/^curl (\d+)\.(\d+)/.exec(status.version) ?? []).slice(1).map(Number);
  const [wantMajor = 0, wantMinor = 0] = MINIMUM_VERSION;
  if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
    return { available: false, reason: `curl ${major}.${minor} is older than ${wantMajor}.${wantMinor} (no --write-out %{exitcode})` };
  }
  return status;
}

/**
 * ALPN is not a list curl takes: it offers `h2,http/1.1` by default, `http/1.1` with --http1.1, nothing with
 * --no-alpn. Other client settings curl cannot express make the probe unsupported (with this reason).
 */
export function curlUnsupported(client: ExternalClient): string | undefined {
  const alpn = client.ALPNProtocols?.join(',');
  if (alpn !== undefined && !['', 'http/1.1', 'h2,http/1.1'].includes(alpn)) {
    return `curl offers ALPN h2,http/1.1, http/1.1 (--http1.1) or nothing (--no-alpn), not ${alpn}`;
  }
  return undefined;
}

/**
 * The curl options for one transfer; PEM file paths by name (ca.pem, cert.pem, key.pem, crl.pem). `--no-sessionid`:
 * no TLS session is resumed from an earlier transfer of the same batch, so each transfer verifies what it is sent.
 */
export function curlArguments(client: ExternalClient, paths: Record<string, string>): string[] {
  const name = client.servername;
  const args = ['-sS', '--no-sessionid', '--noproxy', '*', '--max-time', (client.timeoutMs / 1000).toFixed(3)];
  if (name !== undefined) {
    // The server listens on 127.0.0.1 only: resolve the name there, and let curl send it as SNI and check it.
    // curl converts an internationalized name to its A-label (IDN) before it resolves it: so must the entry.
    args.push('--resolve', `${domainToASCII(name) || name}:${client.port}:${client.host}`);
  }
  if (paths['ca.pem']) args.push('--cacert', paths['ca.pem']);
  if (paths['cert.pem'] && paths['key.pem']) args.push('--cert', paths['cert.pem'], '--key', paths['key.pem']);
  if (paths['crl.pem']) args.push('--crlfile', paths['crl.pem']);
  if (client.minVersion) args.push(`--tlsv${VERSION_NUMBERS[client.minVersion]}`);
  if (client.maxVersion) args.push('--tls-max', VERSION_NUMBERS[client.maxVersion]);
  if (client.ciphers) args.push('--ciphers', client.ciphers);
  const alpn = client.ALPNProtocols?.join(',');
  if (alpn === '') args.push('--no-alpn');
  if (alpn === 'http/1.1') args.push('--http1.1');
  if (!client.rejectUnauthorized) args.push('--insecure');
  if (client.pinnedPublicKey) args.push('--pinnedpubkey', client.pinnedPublicKey);
  const host = name ?? (client.host.includes(':') ? `[${client.host}]` : client.host);
  args.push(`https://${host}:${client.port}/`);
  return args;
}

/** What curl writes after each transfer (--write-out): its index, exit code, HTTP status and error message. */
const WRITE_OUT = '<<tls-harness %{urlnum} exit=%{exitcode} status=%{http_code} error=%{errormsg}>>\n';
const WRITTEN = /^<<tls-harness (\d+) exit=(\d+) status=(\d{3}) error=(.*)>>$/gm;

/** Transfers per curl process: keeps the command line short. */
const BATCH_SIZE = 100;

/** Probe one client with curl. */
export async function probeCurl(client: ExternalClient): Promise<ExternalOutcome> {
  const [outcome] = await runBatch([client], 1);
  return outcome as ExternalOutcome;
}

/**
 * Probe many clients with curl. Starting curl costs more than a TLS handshake, so one curl process runs a whole
 * batch: one transfer per client, separated by `--next` (each with its own options), `concurrency` at a time
 * (`--parallel`). Each transfer reports its own exit code and error message (`--write-out %{exitcode} %{errormsg}`):
 * the code a curl of its own would exit with, and the message of its `curl: (N) …` line.
 */
export async function probeCurlMany(clients: readonly ExternalClient[], concurrency = 4): Promise<ExternalOutcome[]> {
  const groups = new Map<string, number[]>();
  clients.forEach((client, index) => {
    const key = JSON.stringify(client.env ?? {});
    const group = groups.get(key) ?? [];
    groups.set(key, group);
    group.push(index);
  });
  const batches = [...groups.values()].flatMap((indexes) =>
    Array.from({ length: Math.ceil(indexes.length / BATCH_SIZE) }, (_, i) => indexes.slice(i * BATCH_SIZE, (i + 1) * BATCH_SIZE)),
  );
  const outcomes = new Array<ExternalOutcome>(clients.length);
  await Promise.all(
    batches.map(async (indexes) => {
      const results = await runBatch(
        indexes.map((index) => clients[index] as ExternalClient),
        concurrency,
      );
      indexes.forEach((index, i) => (outcomes[index] = results[i] as ExternalOutcome));
    }),
  );
  return outcomes;
}

async function runBatch(clients: readonly ExternalClient[], concurrency: number): Promise<ExternalOutcome[]> {
  const files = await writePemFiles(clientPems(clients, 'own-file'));
  try {
    const args = ['-q', '--parallel', '--parallel-max', String(concurrency)];
    clients.forEach((client, i) => {
      if (i > 0) args.push('--next');
      args.push(...curlArguments(client, clientPaths(files, i)), '--output', join(files.dir, `${i}.body`), '--write-out', WRITE_OUT);
    });
    // --max-time bounds every transfer; the kill is only a safety net.
    const longest = Math.max(0, ...clients.map((c) => c.timeoutMs));
    const result = await runProcess(CURL, args, {
      timeoutMs: Math.ceil(clients.length / concurrency) * longest + 10_000,
      env: clients[0]?.env ?? {},
    });
    const written = new Map([...result.stdout.matchAll(WRITTEN)].map((m) => [Number(m[1]), m]));
    return Promise.all(
      clients.map(async (_client, i): Promise<ExternalOutcome> => {
        const transfer = written.get(i);
        if (!transfer) {
          throw new Error(`curl reported nothing for transfer ${i} (exit ${result.exitCode ?? 'killed'}): ${result.stderr}`);
        }
        const exitCode = Number(transfer[2]);
        const status = Number(transfer[3]);
        const body = await readFile(join(files.dir, `${i}.body`), 'utf8').catch(() => '');
        if (exitCode === 0 && status > 0) return { probe: 'curl', ok: true, phase: 'response', exitCode, status, body };
        return {
          probe: 'curl',
          ok: false,
          phase: 'request',
          exitCode,
          message: normalizeToolMessage(transfer[4] ?? ''),
          ...(status > 0 ? { status, body } : {}),
        };
      }),
    );
  } finally {
    await files.close();
  }
}
