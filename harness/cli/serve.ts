import { mkdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parsePort, selectScenarios, table, watchForStop } from './args.ts';
import { settingsBeyondTrust } from './client-settings.ts';
import { UsageError } from './errors.ts';
import { startFleet, type Fleet, type Served } from './fleet.ts';
import { startIndexServer, type IndexServer, type ServeEntry } from './index-page.ts';
import type { Io } from './io.ts';
import type { CommandContext } from './main.ts';

export const SERVE_HELP = `Usage: tls-harness serve [ids…] [--json] [--out DIR] [--port N] [--keep-running]

Serve every scenario (or the named ones) on 127.0.0.1 until Ctrl-C (SIGINT), SIGTERM, or the exit of the process
that started it (a script, npx; see --keep-running): an offline badssl.com whose certificates are minted at start-up
and never expire.
Each endpoint gets an ephemeral port; the clients' PEM files (CA bundle, client certificate and key, CRLs) are
written to DIR as <id>.ca.pem, <id>.client-cert.pem, <id>.client-key.pem and <id>.crl.pem. An index page on --port
lists every endpoint, linked, with what a strict client must do.

Options:
  --json        one JSON object per endpoint and line:
                  { "id", "family", "title", "host", "port", "servername", "url", "expect", "caFile",
                    "clientCertFile"?, "clientKeyFile"?, "crlFile"?, "clientSettings"?, "clientEnvironment"? }
                "expect" is what a strict client must do (accept / reject); "servername" null means connect by IP
                (no SNI); "caFile" null means the scenario's client uses the system's default trust store;
                "clientSettings" lists what else the verdict assumes (CRLs, pinned TLS versions…). A scenario whose
                server cannot start has "error" instead of host and port. Then one line
                { "ready": true, "index", "dir", "pid" }: the index page, the PEM directory and this process's pid.
  --out DIR     write the PEM files to DIR (created if needed, kept on exit); default: a private temp dir,
                removed on exit
  --port N      port of the index page (plain HTTP on 127.0.0.1); default: a free port, printed
  --keep-running
                keep serving after the process that started it exits (a CI step that leaves it running for the
                next one, nohup, setsid); stop it with SIGTERM to its pid (the ready line's "pid")
  -h, --help    show this help

Examples:
  tls-harness serve                                 # everything; the index page URL is printed
  tls-harness serve expired-leaf wrong-host --json  # two endpoints, machine-readable
  curl --cacert DIR/expired-leaf.ca.pem https://localhost:PORT/
`;

export async function serveCommand(argv: string[], io: Io, context: CommandContext = {}): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean' },
      out: { type: 'string' },
      port: { type: 'string' },
      'keep-running': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.out(SERVE_HELP);
    return 0;
  }
  const scenarios = selectScenarios(positionals);
  const port = values.port === undefined ? 0 : parsePort(values.port, '--port');
  if (values.out !== undefined) {
    try {
      await mkdir(values.out, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new UsageError(`cannot write to --out ${values.out}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  // Watch for a stop request from the start, so a Ctrl-C while the endpoints start still closes everything.
  const stop = watchForStop(context.signal, { watchParentProcess: values['keep-running'] !== true });
  let index: IndexServer | undefined;
  let fleet: Fleet | undefined;
  try {
    index = await startIndexServer(port); // first: a port in use fails before anything else starts
    fleet = await startFleet(scenarios, values.out === undefined ? {} : { dir: values.out });
    const entries = fleet.served.map(entry);
    index.publish(entries, {
      cause: Object.fromEntries(scenarios.map((s) => [s.id, s.cause])),
      fix: Object.fromEntries(scenarios.map((s) => [s.id, s.fix])),
      dir: fleet.dir,
    });
    if (values.json) {
      io.out(entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
      io.out(`${JSON.stringify({ ready: true, index: index.url, dir: fleet.dir, pid: process.pid })}\n`);
    } else {
      io.out(humanTable(entries, index.url, fleet.dir));
    }
    await stop.stopped;
    return 0;
  } finally {
    stop.dispose();
    await Promise.all([fleet?.close(), index?.close()]);
  }
}

function entry(served: Served): ServeEntry {
  const { scenario, endpoint, files, client, material } = served;
  const base = { id: scenario.id, family: scenario.family, title: scenario.title, expect: scenario.expect };
  if (!endpoint) return { ...base, error: served.startError ?? 'the server did not start' };
  const settings = settingsBeyondTrust(scenario, material);
  const environment =
    client.env &&
    Object.fromEntries(Object.entries(client.env).map(([name, value]) => [name, typeof value === 'string' ? value : '<a PEM file>']));
  return {
    ...base,
    host: endpoint.host,
    port: endpoint.port,
    servername: endpoint.servername ?? null,
    url: endpoint.url,
    caFile: files.ca ?? null,
    ...(files.clientCert ? { clientCertFile: files.clientCert } : {}),
    ...(files.clientKey ? { clientKeyFile: files.clientKey } : {}),
    ...(files.crl ? { crlFile: files.crl } : {}),
    ...(settings.length > 0 ? { clientSettings: settings } : {}),
    ...(environment ? { clientEnvironment: { ...environment } } : {}),
  };
}

function humanTable(entries: ServeEntry[], indexUrl: string, dir: string): string {
  const rows = entries.map((e) => [
    e.family,
    e.id,
    e.expect,
    e.error !== undefined
      ? `(server does not start: ${e.error})`
      : `${e.url}${e.servername === 'localhost' || e.servername === null ? '' : ` → ${e.host}`}`,
  ]);
  const serving = entries.filter((e) => e.error === undefined).length;
  return (
    table(['FAMILY', 'ID', 'STRICT CLIENT', 'URL'], rows) +
    `\nServing ${serving} endpoints on 127.0.0.1. Index: ${indexUrl}\n` +
    `Client PEM files: ${dir}/<id>.ca.pem (and .client-cert.pem, .client-key.pem, .crl.pem where a scenario has them).\n` +
    'Names other than localhost resolve nowhere: connect to 127.0.0.1 and send the name (curl --resolve NAME:PORT:127.0.0.1).\n' +
    'Press Ctrl-C to stop.\n'
  );
}
