import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HOST } from '../endpoint.ts';
import { FAMILIES } from '../scenario.ts';
import { UsageError } from './errors.ts';

/** One line of `serve --json`, and one row of the index page. */
export interface ServeEntry {
  id: string;
  family: string;
  title: string;
  /** What a strict client must do: `accept` or `reject`. */
  expect: 'accept' | 'reject';
  host?: string;
  port?: number;
  /** The name to ask for (SNI, host name check); null: connect by IP literal, no SNI. */
  servername?: string | null;
  url?: string;
  /** The CA bundle to trust; null: the scenario's client uses the system's default store. */
  caFile?: string | null;
  clientCertFile?: string;
  clientKeyFile?: string;
  crlFile?: string;
  /** Client settings the scenario's verdict assumes beyond trust and name (CRLs, pinned versions…), in words. */
  clientSettings?: string[];
  /** Environment variables the scenario's client process runs with. */
  clientEnvironment?: Record<string, string>;
  /** The server could not start (server-configuration scenarios): the error it threw. */
  error?: string;
}

export interface IndexMeta {
  cause: Record<string, string>;
  fix: Record<string, string>;
  dir: string;
}

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** The file a client downloads from the index page, by route: /ca/<id>.pem, /client-cert/<id>.pem … */
const FILE_ROUTES = { ca: 'caFile', 'client-cert': 'clientCertFile', 'client-key': 'clientKeyFile', crl: 'crlFile' } as const;

function clientCell(entry: ServeEntry): string {
  if (entry.error !== undefined) return '';
  const parts: string[] = [];
  for (const [route, field] of Object.entries(FILE_ROUTES)) {
    if (entry[field]) parts.push(`<a href="/${route}/${escape(entry.id)}.pem">${route} PEM</a>`);
  }
  if (entry.caFile === null) parts.push('trusts the system store (no CA file)');
  if (entry.servername === null) parts.push(`connect by IP: ${escape(HOST)}, no SNI`);
  else if (entry.servername !== 'localhost')
    parts.push(`SNI and host check: <code>${escape(entry.servername ?? '')}</code>, address ${escape(HOST)}`);
  for (const setting of entry.clientSettings ?? []) parts.push(escape(setting));
  for (const [name, value] of Object.entries(entry.clientEnvironment ?? {}))
    parts.push(`env <code>${escape(name)}=${escape(value)}</code>`);
  return parts.join('<br>');
}

function row(entry: ServeEntry, meta: IndexMeta): string {
  const where =
    entry.error !== undefined
      ? `${escape(entry.id)}<br><small>server does not start: <code>${escape(entry.error)}</code></small>`
      : `<a href="${escape(entry.url ?? '')}">${escape(entry.id)}</a><br><small><code>${escape(entry.url ?? '')}</code></small>`;
  return `<tr id="scenario-${escape(entry.id)}" data-scenario-id="${escape(entry.id)}" data-family="${escape(entry.family)}" data-expect="${entry.expect}">
<td class="endpoint">${where}</td>
<td><span class="verdict ${entry.expect}">${entry.expect}</span></td>
<td><strong>${escape(entry.title)}</strong><details><summary>cause and fix</summary><p>${escape(meta.cause[entry.id] ?? '')}</p><p><em>Fix:</em> ${escape(meta.fix[entry.id] ?? '')}</p></details></td>
<td class="client">${clientCell(entry)}</td>
</tr>`;
}

/** The dashboard: every endpoint by family, linked, with what a strict client must do — like badssl.com's. */
export function renderIndex(entries: readonly ServeEntry[], meta: IndexMeta): string {
  const sections = FAMILIES.map((family) => {
    const rows = entries.filter((e) => e.family === family);
    if (rows.length === 0) return '';
    return `<section id="family-${family}"><h2>${family}</h2>
<table><thead><tr><th>endpoint</th><th>strict client</th><th>what is wrong</th><th>client needs</th></tr></thead>
<tbody>
${rows.map((e) => row(e, meta)).join('\n')}
</tbody></table></section>`;
  }).join('\n');
  const rejects = entries.filter((e) => e.expect === 'reject').length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tls-harness: ${entries.length} endpoints</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:75em}
table{border-collapse:collapse;width:100%;margin-bottom:2em}th,td{border-bottom:1px solid #ddd;padding:.4em;text-align:left;vertical-align:top}
.verdict{display:inline-block;padding:.1em .6em;border-radius:1em;color:#fff;font-weight:bold}
.accept{background:#2e7d32}.reject{background:#c62828}code{font-size:90%}summary{cursor:pointer;color:#555}
</style></head>
<body>
<h1>tls-harness</h1>
<p id="summary">${entries.length} endpoints on ${HOST}, ${rejects} of which a strict client must reject. Node ${escape(process.version)}, OpenSSL ${escape(process.versions.openssl ?? '')}.
Every endpoint listens on ${HOST} only: for a name other than localhost, resolve it to ${HOST} yourself
(<code>curl --resolve NAME:PORT:${HOST}</code>). Client PEM files are in <code>${escape(meta.dir)}</code>; the same list as JSON:
<a href="/endpoints.json">/endpoints.json</a>.</p>
${sections}
</body></html>
`;
}

/** The index server: plain HTTP on 127.0.0.1 — the page, the JSON list, and the clients' PEM files. */
export interface IndexServer {
  port: number;
  url: string;
  /** Start answering with these entries (until then: 503). */
  publish(entries: readonly ServeEntry[], meta: IndexMeta): void;
  close(): Promise<void>;
}

/** Listen on 127.0.0.1:`port` (0: a free port). A port in use is a usage error. */
export async function startIndexServer(port: number): Promise<IndexServer> {
  let page: { entries: readonly ServeEntry[]; meta: IndexMeta; html: string } | undefined;
  const server: Server = createServer((request, response) => void answer(request, response));
  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    response.setHeader('connection', 'close');
    if (!page) return void response.writeHead(503, { 'content-type': 'text/plain' }).end('starting\n');
    const path = new URL(request.url ?? '/', 'http://index').pathname;
    if (path === '/' || path === '/index.html') {
      return void response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page.html);
    }
    if (path === '/endpoints.json') {
      return void response.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(page.entries, null, 2)}\n`);
    }
    const file = /^\/(ca|client-cert|client-key|crl)\/([a-z0-9-]+)\.pem$/.exec(path);
    const entry = file ? page.entries.find((e) => e.id === file[2]) : undefined;
    const field = file ? FILE_ROUTES[file[1] as keyof typeof FILE_ROUTES] : undefined;
    const filePath = entry && field ? entry[field] : undefined;
    if (typeof filePath === 'string') {
      return void response.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(await readFile(filePath));
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(new UsageError(`port ${port} is in use (--port)`));
      else if (error.code === 'EACCES') reject(new UsageError(`port ${port} needs privileges this process does not have (--port)`));
      else reject(error);
    });
    server.listen(port, HOST, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    url: `http://${HOST}:${actual}/`,
    publish: (entries, meta) => (page = { entries, meta, html: renderIndex(entries, meta) }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
