import { readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { writePemFiles } from '../../../certs/pem-files.ts';
import type { ExternalOutcome } from '../../outcome.ts';
import {
  clientPaths,
  clientPems,
  httpRequest,
  mapBounded,
  normalizeToolMessage,
  parseHttpResponse,
  runProcess,
  toolStatus,
  type ExternalClient,
  type ToolStatus,
} from './client.ts';

const OPENSSL = 'openssl';

export function opensslStatus(): ToolStatus {
  return toolStatus(OPENSSL, ['version'], 'openssl');
}

/** s_client has no pinning option. */
export function opensslUnsupported(client: ExternalClient): string | undefined {
  if (client.pinnedPublicKey) return 'openssl s_client has no public-key pinning option';
  return undefined;
}

/**
 * The s_client command line. A strict client: `-verify_return_error` (s_client's default is to report a
 * verification failure and carry on), the host name checked with `-verify_hostname` (or `-verify_ip` for an IP
 * literal, sent without SNI), CRLs for the whole chain (`-crl_check_all`). `-ign_eof` keeps it reading after its
 * request until the server closes; `-state` prints the alerts, on stderr next to the error lines.
 */
export function sClientArguments(client: ExternalClient, paths: Record<string, string>): string[] {
  const args = [
    's_client',
    '-connect',
    `${client.host.includes(':') ? `[${client.host}]` : client.host}:${client.port}`,
    '-ign_eof',
    '-state',
  ];
  const name = client.servername;
  if (name === undefined) {
    args.push('-noservername');
    if (client.rejectUnauthorized) args.push(isIP(client.host) ? '-verify_ip' : '-verify_hostname', client.host);
  } else {
    args.push('-servername', name);
    if (client.rejectUnauthorized) args.push('-verify_hostname', name);
  }
  if (client.rejectUnauthorized) args.push('-verify_return_error');
  // With CAs given, only they are trusted (-no-CApath -no-CAstore), as Node's `ca` replaces the default store.
  // The CRLs travel in the same file, which OpenSSL reads certificates and CRLs from: s_client's own -CRL option
  // takes a single CRL, and a chain needs one per CA.
  if (paths['ca.pem']) args.push('-CAfile', paths['ca.pem'], ...(client.ca.length > 0 ? ['-no-CApath', '-no-CAstore'] : []));
  if (client.crl) args.push('-crl_check_all');
  if (paths['cert.pem'] && paths['key.pem']) args.push('-cert', paths['cert.pem'], '-key', paths['key.pem']);
  if (client.minVersion) args.push('-min_protocol', client.minVersion);
  if (client.maxVersion) args.push('-max_protocol', client.maxVersion);
  if (client.ciphers) args.push('-cipher', client.ciphers);
  if (client.ALPNProtocols && client.ALPNProtocols.length > 0) args.push('-alpn', client.ALPNProtocols.join(','));
  return args;
}

export async function probeSClient(client: ExternalClient): Promise<ExternalOutcome> {
  const trust = [...client.ca, ...(client.crl ?? [])];
  const files = await writePemFiles({
    ...(trust.length > 0 ? { 'ca.pem': trust.join('') } : {}),
    ...(client.cert !== undefined && client.key !== undefined ? { 'cert.pem': client.cert, 'key.pem': client.key } : {}),
  });
  try {
    // s_client has no timeout of its own for TLS: the harness kills it.
    const result = await runProcess(OPENSSL, sClientArguments(client, files.paths), {
      input: httpRequest(client),
      timeoutMs: client.timeoutMs,
      env: client.env ?? {},
    });
    return sClientOutcome(result.exitCode, result.killed, result.stdout, result.stderr);
  } finally {
    await files.close();
  }
}

/** Read s_client's output: the summary on stdout, `-state` lines, verify errors and error lines on stderr. */
export function sClientOutcome(exitCode: number | undefined, killed: boolean, stdout: string, stderr: string): ExternalOutcome {
  const verify = /^\s*Verify return code: (\d+ \(.*\))$/m.exec(stdout)?.[1];
  const protocol = /^(?:New|Reused), (TLSv[\d.]+|SSLv3), Cipher is (?!\(NONE\))/m.exec(stdout)?.[1];
  const alerts = [...stderr.matchAll(/^SSL3 alert ((?:read|write):\w+:.*)$/gm)].map((m) => m[1] ?? '');
  const verifyError = /^verify error:num=(\d+:.*)$/m.exec(stderr)?.[1];
  // OpenSSL's error lines, and s_client's own report of a failed socket call (`write:errno=104`).
  const errors = stderr.split('\n').filter((line) => /^[0-9A-F]+:error:|^(?:read|write):errno=\d+$/.test(line));
  const response = parseHttpResponse(stdout);
  // s_client reports `SSL_connect:error in …` (or `failed in`) when the handshake itself fails; an error without it
  // came after the client had finished its handshake (a TLS 1.3 server refusing the client certificate).
  const inHandshake = /^SSL_connect:(?:error|failed) in /m.test(stderr);
  // No CONNECTED line: s_client refused its own settings (a key that does not match its certificate) and never connected.
  const connected = /^CONNECTED\(/m.test(stdout);
  const common = {
    probe: 'openssl s_client' as const,
    ...(exitCode !== undefined ? { exitCode } : {}),
    ...(killed ? { killed: true } : {}),
    ...(verify !== undefined ? { verify } : {}),
    ...(verifyError !== undefined ? { verifyError } : {}),
    ...(alerts.length > 0 ? { alerts } : {}),
    // s_client prints a protocol in its summary even for a handshake that failed: only a completed one counts.
    ...(protocol && !inHandshake ? { protocol } : {}),
  };
  if (exitCode === 0 && errors.length === 0 && response) {
    return { ...common, ok: true, phase: 'response', status: response.status, body: response.body };
  }
  const message = normalizeToolMessage(errors.join('\n'));
  return {
    ...common,
    ok: false,
    // A killed s_client prints its summary only if its handshake had completed.
    phase: !connected && !killed ? 'call' : inHandshake || (killed && !protocol) ? 'handshake' : 'after-secureConnect',
    ...(killed ? { code: 'PROBE_TIMEOUT' as const } : message === '' ? { code: 'NO_RESPONSE' as const } : {}),
    ...(message !== '' ? { message } : {}),
    ...(response ? { status: response.status, body: response.body } : {}),
  };
}

/** POSIX sh, xargs and coreutils' timeout: what the batch runner needs. */
function batchRunnerAvailable(): boolean {
  return [toolStatus('sh', ['-c', 'exit 0']), toolStatus('xargs', ['--version']), toolStatus('timeout', ['--version'])].every(
    (s) => s.available,
  );
}

/** A word for sh: single-quoted. */
function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Probe many clients with s_client, at most `concurrency` at a time; outcomes in input order.
 * s_client runs one connection per process. Forking the (large) Node process for each costs more than the probe, so
 * Node starts a single `xargs -P` that runs one small sh script per probe: `timeout -s KILL` around s_client (it
 * has no timeout of its own), its input, output, error output and exit code in files of one 0700 temp dir.
 * Without sh, xargs or timeout, each probe is spawned from Node.
 */
export async function probeSClientMany(clients: readonly ExternalClient[], concurrency = 4): Promise<ExternalOutcome[]> {
  if (clients.length <= 1 || !batchRunnerAvailable()) return mapBounded(clients, concurrency, probeSClient);
  const files = clientPems(clients, 'in-ca-file');
  clients.forEach((client, i) => (files[`${i}.in`] = httpRequest(client)));
  const dir = await writePemFiles(files);
  try {
    const at = (name: string) => join(dir.dir, name);
    const scripts: Record<string, string> = {};
    clients.forEach((client, i) => {
      const paths = clientPaths(dir, i);
      const env = Object.entries(client.env ?? {}).map(([name, value]) => `${name}=${value}`);
      const command = [
        ...(env.length > 0 ? ['env', ...env] : []),
        'timeout',
        '-s',
        'KILL',
        (client.timeoutMs / 1000).toFixed(3),
        OPENSSL,
        ...sClientArguments(client, paths),
      ];
      scripts[`${i}.sh`] =
        `${command.map(shellQuote).join(' ')} <${shellQuote(at(`${i}.in`))} >${shellQuote(at(`${i}.out`))} 2>${shellQuote(at(`${i}.err`))}\n` +
        `echo $? >${shellQuote(at(`${i}.rc`))}\n`;
    });
    await Promise.all(Object.entries(scripts).map(([name, text]) => writeFile(at(name), text, { mode: 0o600 })));
    const longest = Math.max(0, ...clients.map((c) => c.timeoutMs));
    const runner = await runProcess('xargs', ['-0', '-n', '1', '-P', String(concurrency), 'sh'], {
      input: clients.map((_c, i) => `${at(`${i}.sh`)}\0`).join(''),
      timeoutMs: Math.ceil(clients.length / concurrency) * (longest + 1000) + 10_000,
    });
    if (runner.exitCode !== 0) throw new Error(`xargs exited ${runner.exitCode ?? 'on a kill'}: ${runner.stderr}`);
    return Promise.all(
      clients.map(async (_client, i) => {
        const [rc, stdout, stderr] = await Promise.all(['rc', 'out', 'err'].map((ext) => readFile(at(`${i}.${ext}`), 'utf8')));
        const code = Number((rc ?? '').trim());
        // timeout -s KILL: the shell reports the killed s_client as 128 + 9.
        const killed = code === 137;
        return sClientOutcome(killed ? undefined : code, killed, stdout ?? '', stderr ?? '');
      }),
    );
  } finally {
    await dir.close();
  }
}
