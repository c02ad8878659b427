import type { SpecRecord } from './spec-records.ts';

/**
 * The two sections of docs/CATALOG.md that come from spec runs rather than from the Node probes: what curl, openssl
 * s_client and Python print for every scenario (specs/external-clients.spec.ts), and where server programs part ways
 * (specs/server-differences.spec.ts). Each cell is the title of a test that passed — the exact outcome that test
 * asserted against a live endpoint — or, for a pending test, the reason it is not graded.
 */

export const SECTION_SPECS = ['specs/external-clients.spec.ts', 'specs/server-differences.spec.ts'];

const EXTERNAL_ROOT = 'external clients: curl, openssl s_client, python ssl';
const DIFFERENCES_ROOT = 'server differences: the same scenario on every server backend, side by side';
const START_ROOT = 'server differences: a server configured with key material it cannot use, on every backend';
const TOOLS = ['curl', 'openssl s_client', 'python ssl'] as const;
const SERVERS = ['node', 'openssl', 'nginx'] as const;
const PROBES = ['tls.connect', 'https.request', 'fetch'] as const;

/**
 * The records the page is rendered from: the two specs' tests, without the container backend's column (nginx in a
 * container, asserted to answer exactly as nginx does; pending where no Docker daemon runs).
 */
export function sectionRecords(records: SpecRecord[]): SpecRecord[] {
  return records.filter(
    (record) => [EXTERNAL_ROOT, DIFFERENCES_ROOT, START_ROOT].includes(record.path[0] ?? '') && !record.path.at(-1)?.startsWith('container: '),
  );
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** A test title without its leading subject (`curl `, `node: `): what happened. */
function after(prefix: string, title: string): string {
  return title.slice(prefix.length).replace(/^:?\s*/, '');
}

function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)];
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

function externalClients(records: SpecRecord[]): string[] {
  const external = records.filter((r) => r.path[0] === EXTERNAL_ROOT);
  const tools = external.filter((r) => r.path[1] === 'the tools' && TOOLS.some((tool) => r.path[2]?.startsWith(`${tool}: `)));
  const out = [
    '## Other clients: curl, openssl s_client, Python',
    '',
    'The same endpoints through three clients that are not Node, each run as a child process with the client settings',
    'the scenario gives Node (CA bundle, server name, client certificate, CRLs, versions, ciphers, ALPN). Each cell is',
    'what `specs/external-clients.spec.ts` asserted in a live run: the exit code and error line, s_client\'s verify',
    'result and alerts, Python\'s exception. A cell names a TLS version where the two versions differ; otherwise the',
    'tool ran with its own defaults. Tools:',
    '',
    ...tools.map((r) => `- ${cell((r.path[2] ?? '').replace(/ at \/\S+$/, ''))}`),
    '',
  ];
  const scenarios = groupBy(
    external.filter((r) => r.path.length >= 4 && r.path[1] !== 'the tools' && !r.path[1]?.startsWith('python urllib')),
    (r) => `${r.path[1]}\n${r.path[2]}`,
  );
  const families = groupBy([...scenarios.keys()], (key) => key.split('\n')[0] ?? '');
  for (const [family, keys] of families) {
    out.push(`### ${family}`, '');
    const rows = keys.map((key) => {
      const tests = scenarios.get(key) ?? [];
      const id = (key.split('\n')[1] ?? '').split(':')[0] ?? '';
      const broken = tests.filter((r) => !r.path[3]?.startsWith('fix applied'));
      const fixed = tests.filter((r) => r.path[3]?.startsWith('fix applied'));
      const forTool = (list: SpecRecord[], tool: string) =>
        list.flatMap((r) => {
          const title = r.path.at(-1) ?? '';
          if (title.startsWith(`${tool} `) || title.startsWith(`${tool}:`)) return [after(tool, title)];
          return TOOLS.some((t) => title.startsWith(`${t} `) || title.startsWith(`${t}:`)) ? [] : [title]; // shared: 'no client connects…'
        });
      const fixCells = TOOLS.flatMap((tool) => forTool(fixed, tool).filter((text) => !text.startsWith('succeeds')).map((text) => `${tool}: ${text}`));
      const fix = fixed.length === 0 ? '—' : fixCells.length === 0 ? 'all succeed' : fixCells.join('<br>');
      return [`\`${id}\``, ...TOOLS.map((tool) => cell(forTool(broken, tool).join('<br>') || '—')), cell(fix)];
    });
    out.push(...table(['scenario', ...TOOLS, 'with the fix'], rows), '');
  }
  const urllib = external.filter((r) => r.path[1]?.startsWith('python urllib'));
  if (urllib.length > 0) {
    out.push('### Python through urllib', '', `${urllib[0]?.path[1] ?? ''}.`, '');
    const rows = [...groupBy(urllib, (r) => r.path[2] ?? '')].map(([id, tests]) => [
      `\`${id}\``,
      cell(tests.map((r) => after('python urllib', r.path.at(-1) ?? '')).join('<br>')),
    ]);
    out.push(...table(['scenario', 'urllib.request.urlopen'], rows), '');
  }
  return out;
}

function serverDifferences(records: SpecRecord[]): string[] {
  const out = [
    '## Server differences: node, openssl s_server, nginx',
    '',
    'The same scenario served by the in-process Node server, by `openssl s_server` and by nginx, and what each Node',
    'client sees of each (`specs/server-differences.spec.ts`, live). Refusing a client certificate is where they part',
    'most: a Node server finishes the handshake, verifies, and drops the connection without an alert; s_server sends',
    'the alert that names the reason; nginx completes the handshake and answers the request with HTTP 400. (The',
    '`container` backend runs nginx and is asserted to answer exactly as nginx does.)',
    '',
  ];
  const differences = groupBy(
    records.filter((r) => r.path[0] === DIFFERENCES_ROOT),
    (r) => r.path[1] ?? '',
  );
  for (const [difference, tests] of differences) {
    const [id, ...title] = difference.split(': ');
    out.push(`### \`${id}\`: ${title.join(': ')}`, '');
    const rows: string[][] = [];
    for (const [version, inVersion] of groupBy(tests, (r) => (r.path[2] ?? '').replace(/^over /, ''))) {
      for (const probe of PROBES) {
        const seen = (server: string) => {
          const record = inVersion.find((r) => r.path.at(-1)?.startsWith(`${server}: ${probe} `));
          return record ? cell(after(probe, after(server, record.path.at(-1) ?? ''))) : '—';
        };
        rows.push([version, probe, ...SERVERS.map(seen)]);
      }
    }
    out.push(...table(['TLS', 'probe', ...SERVERS], rows), '');
  }
  const starts = groupBy(
    records.filter((r) => r.path[0] === START_ROOT),
    (r) => r.path[1] ?? '',
  );
  if (starts.size > 0) {
    out.push('### A server configured with key material it cannot use', '');
    const rows = [...starts].map(([difference, tests]) => [
      `\`${difference.split(': ')[0] ?? ''}\``,
      ...SERVERS.map((server) => {
        const record = tests.find((r) => r.path.at(-1)?.startsWith(`${server}: `));
        return record ? cell(after(server, record.path.at(-1) ?? '')) : '—';
      }),
    ]);
    out.push(...table(['scenario', ...SERVERS], rows), '');
  }
  return out;
}

/** The Markdown of both sections, to follow the catalog's own. */
export function renderSections(records: SpecRecord[]): string {
  return `${[...externalClients(records), ...serverDifferences(records)].join('\n').trimEnd()}\n`;
}
