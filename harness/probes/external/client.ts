import { spawn, spawnSync } from 'node:child_process';
import type { SecureVersion } from 'node:tls';
import type { PemFiles } from '../../../certs/pem-files.ts';
import type { Endpoint } from '../../endpoint.ts';
import { DEFAULT_PROBE_TIMEOUT_MS, type ClientOptions } from '../options.ts';

/**
 * How an external client is configured for one probe: the tool-neutral form of a scenario's client setup. Every
 * field maps onto a command-line option (curl, s_client) or an `ssl.SSLContext` setting (python).
 */
export interface ExternalClient {
  host: string;
  port: number;
  /** The name sent as SNI and checked against the certificate. `undefined`: connect by IP literal, no SNI. */
  servername: string | undefined;
  /** PEMs to trust. Empty: the tool's default store (the system CA bundle). */
  ca: string[];
  /** Client certificate chain and key (mutual TLS). */
  cert?: string;
  key?: string;
  /** CRLs to check the whole chain against (CRL_CHECK + CRL_CHECK_ALL, as Node's `crl` option does). */
  crl?: string[];
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  /** OpenSSL cipher string for TLS 1.2 and below. */
  ciphers?: string;
  ALPNProtocols?: string[];
  /** False: verification off (`curl -k`, s_client without -verify_return_error, python CERT_NONE). */
  rejectUnauthorized: boolean;
  /** curl only: `--pinnedpubkey sha256//<base64>`. */
  pinnedPublicKey?: string;
  /** Python only: `ssl` (a socket wrapped by the SSLContext, the default) or `urllib` (urllib.request.urlopen). */
  python?: 'ssl' | 'urllib';
  /** Upper bound for the probe; the tool's own timeout where it has one, else the harness kills the process. */
  timeoutMs: number;
  /** Extra environment variables for the tool's process. */
  env?: Record<string, string>;
}

/**
 * The external-client form of the endpoint's client options (plus `overrides`, e.g. a pinned version). Options only
 * Node has (a checkServerIdentity function, minDHSize…) are left out: the tool's `lacks` says which (features.ts).
 */
export function externalClient(endpoint: Endpoint, overrides: ClientOptions = {}, extra: Partial<ExternalClient> = {}): ExternalClient {
  const options = { ...endpoint.clientOptions(), ...overrides };
  return {
    host: endpoint.host,
    port: endpoint.port,
    servername: 'servername' in overrides ? overrides.servername : endpoint.servername,
    ca: options.ca ?? [],
    ...(options.cert !== undefined && options.key !== undefined ? { cert: options.cert, key: options.key } : {}),
    ...(options.crl !== undefined ? { crl: options.crl } : {}),
    ...(options.minVersion !== undefined ? { minVersion: options.minVersion } : {}),
    ...(options.maxVersion !== undefined ? { maxVersion: options.maxVersion } : {}),
    ...(options.ciphers !== undefined ? { ciphers: options.ciphers } : {}),
    ...(options.ALPNProtocols !== undefined ? { ALPNProtocols: options.ALPNProtocols } : {}),
    rejectUnauthorized: options.rejectUnauthorized ?? true,
    timeoutMs: options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
    ...(options.env !== undefined ? { env: plainEnvironment(options.env) } : {}),
    ...extra,
  };
}

/** The environment of a tool's process: plain strings only (a PEM file a Node child gets by path is Node's affair). */
function plainEnvironment(env: NonNullable<ClientOptions['env']>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => {
      if (typeof value !== 'string') throw new Error(`${name}: an external tool takes environment variables as strings`);
      return [name, value];
    }),
  );
}

/** The request line and headers every external client sends (the Node probes send the same). */
export function httpRequest(client: ExternalClient): string {
  const name = client.servername ?? client.host;
  return `GET / HTTP/1.1\r\nHost: ${name.includes(':') ? `[${name}]` : name}:${client.port}\r\nConnection: close\r\n\r\n`;
}

/** Status and body of a raw HTTP/1.1 response (Content-Length framing, as the harness servers answer). */
export function parseHttpResponse(raw: string): { status: number; body: string } | undefined {
  const match = /HTTP\/1\.1 (\d{3}) [^\r\n]*\r\n([\s\S]*?)\r\n\r\n/.exec(raw);
  if (!match) return undefined;
  const start = match.index + match[0].length;
  const length = /^content-length: *(\d+)$/im.exec(match[2] ?? '');
  const body = length ? raw.slice(start, start + Number(length[1])) : raw.slice(start);
  return { status: Number(match[1]), body };
}

/**
 * Strip what varies from run to run out of a tool's message: OpenSSL's thread id and source location
 * (`40E7…:error:0A000086:SSL routines:func:reason:../ssl/statem/statem_clnt.c:1889:` →
 * `error:0A000086:SSL routines:func:reason`), CPython's `_ssl.c:1006` (→ `_ssl.c`), ports and timings.
 */
export function normalizeToolMessage(message: string): string {
  return message
    .split('\n')
    .map((line) =>
      line
        .replace(
          /(?:^|(?<=\s))[0-9A-F]+:error:([0-9A-F]{8}):([^:]+):([^:]*):([^:]+):[^\s:]+\.c:\d+:(.*)$/,
          (_m, code: string, lib: string, func: string, reason: string, rest: string) =>
            `error:${code}:${lib}:${func}:${reason}${rest ? `:${rest}` : ''}`,
        )
        .replace(/\b_ssl\.c:\d+/g, '_ssl.c')
        .replace(/\/[^\s'"]*\/tls-harness-[^/\s'"]+\/\d+-/g, '<dir>/')
        .replace(/\b(connection to \S+?):\d+\b/g, '$1:PORT')
        .replace(/\b(\d{1,3}(?:\.\d{1,3}){3}):\d+\b/g, '$1:PORT')
        .replace(/\b(to \S+ port )\d+\b/g, '$1PORT')
        .replace(/ after \d+ (milliseconds|ms)\b/g, ' after N $1')
        .replace(/\bOpenSSL\/\d+\.\d+\.\d+[a-z]*/g, 'OpenSSL/<version>'),
    )
    .join('\n')
    .trim();
}

export interface ProcessResult {
  /** Exit code; undefined when the process was killed (timeout). */
  exitCode: number | undefined;
  killed: boolean;
  stdout: string;
  stderr: string;
}

/** Run a command with `input` on stdin; kill it (SIGKILL) after `timeoutMs`. Never rejects for a non-zero exit. */
export function runProcess(
  command: string,
  args: readonly string[],
  options: { input?: string; timeoutMs: number; env?: Record<string, string> },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => undefined); // the tool may exit before reading its input (EPIPE)
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({
        exitCode: killed || code === null ? undefined : code,
        killed,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** `items` mapped through `task`, at most `concurrency` at a time, results in input order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** Whether a tool is installed: its version line, or why it cannot run. Checked once per process. */
export type ToolStatus = { available: true; version: string } | { available: false; reason: string };

const statuses = new Map<string, ToolStatus>();

/** Run `command args` once (synchronously, so that spec files can decide at load time) and keep its first line. */
export function toolStatus(command: string, args: readonly string[], name = command): ToolStatus {
  const key = [command, ...args].join(' ');
  let status = statuses.get(key);
  if (!status) {
    const result = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
    const firstLine = `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n')[0]?.trim() ?? '';
    status =
      result.error || result.status !== 0
        ? { available: false, reason: `${name} is not installed (${result.error?.message ?? `\`${key}\` exited ${result.status}`})` }
        : { available: true, version: firstLine };
    statuses.set(key, status);
  }
  return status;
}

/** The harness's name for an OpenSSL protocol version in a tool's own spelling. */
export const VERSION_NUMBERS: Record<SecureVersion, string> = {
  TLSv1: '1.0',
  'TLSv1.1': '1.1',
  'TLSv1.2': '1.2',
  'TLSv1.3': '1.3',
};

/**
 * The PEM files a batch of clients needs, for writePemFiles: client `i`'s trusted CAs as `<i>-ca.pem`, its certificate
 * and key as `<i>-cert.pem` and `<i>-key.pem`, its CRLs as `<i>-crl.pem` — or, for a tool that reads CRLs from its CA
 * file (s_client's -CAfile), appended to `<i>-ca.pem`.
 */
export function clientPems(clients: readonly ExternalClient[], crls: 'own-file' | 'in-ca-file'): Record<string, string> {
  const pems: Record<string, string> = {};
  clients.forEach((client, i) => {
    const trust = crls === 'in-ca-file' ? [...client.ca, ...(client.crl ?? [])] : client.ca;
    if (trust.length > 0) pems[`${i}-ca.pem`] = trust.join('');
    if (client.cert !== undefined && client.key !== undefined) {
      pems[`${i}-cert.pem`] = client.cert;
      pems[`${i}-key.pem`] = client.key;
    }
    if (crls === 'own-file' && client.crl) pems[`${i}-crl.pem`] = client.crl.join('');
  });
  return pems;
}

/** Client `i`'s files among those clientPems wrote, by plain name (`ca.pem`, `cert.pem`, `key.pem`, `crl.pem`). */
export function clientPaths(files: PemFiles, index: number): Record<string, string> {
  return Object.fromEntries(
    ['ca.pem', 'cert.pem', 'key.pem', 'crl.pem'].flatMap((name) => {
      const path = files.paths[`${index}-${name}`];
      return path ? [[name, path]] : [];
    }),
  );
}
