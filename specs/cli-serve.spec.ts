import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { pemBlocks } from '../certs/index.ts';
import type { ServeEntry } from '../harness/cli/index-page.ts';
import { SCENARIOS, probeTlsConnect, scenarioMaterial } from '../harness/index.ts';
import { isRunning } from '../harness/servers/child.ts';
import { itNeeds } from './support/runner.ts';
import {
  activeResources,
  BIN,
  cli,
  expectNothingLeft,
  findExecutable,
  harnessTempDirs,
  runBin,
  startBin,
  startCommand,
  type BinProcess,
  type CliRun,
} from './support/cli.ts';

// `tls-harness serve` is a badssl.com that runs offline: every scenario on 127.0.0.1, the PEM files a client needs,
// and an index page. These specs run it as a user does (the bin, in a process of its own) and in-process.

interface Ready {
  ready: true;
  index: string;
  dir: string;
  pid: number;
}

function parseJsonLines(out: string): { entries: ServeEntry[]; ready: Ready } {
  const lines = out
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as ServeEntry | Ready);
  return { entries: lines.slice(0, -1) as ServeEntry[], ready: lines.at(-1) as Ready };
}

const chromium = findExecutable('chromium', 'chromium-browser', 'google-chrome');

/** Load `url` in headless Chromium and return the DOM it built (`--dump-dom`). Everything it starts is killed after. */
async function dumpDom(url: string): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'tls-harness-chromium-'));
  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'];
  flags.push('--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--dump-dom', url);
  // No D-Bus here: an unusable address makes Chromium give up on it at once instead of waiting for a timeout.
  const child = spawn(chromium as string, flags, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'disabled:' },
  });
  let dom = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => void (dom += chunk));
  child.stderr.resume();
  const killGroup = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  };
  const timer = setTimeout(killGroup, 30_000);
  try {
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    if (code !== 0) throw new Error(`chromium exited ${code}`);
    return dom;
  } finally {
    clearTimeout(timer);
    killGroup(); // renderer and zygote processes
    await rm(profile, { recursive: true, force: true });
  }
}

function subjects(bundle: string): string[] {
  return pemBlocks(bundle).map((pem) => new X509Certificate(pem).subject);
}

const unescape = (html: string) =>
  html
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

describe('tls-harness serve: an offline badssl.com on 127.0.0.1', function () {
  // The bin starts in ~1 s (tsx, then the PKI): the three processes these specs need start together.
  let full: BinProcess | undefined; // serve --json: everything
  let small: BinProcess | undefined; // serve healthy --json: stopped with SIGINT
  let busy: Server | undefined; // holds a port, for "port in use"
  let busyPort = 0;
  let portInUse: Promise<CliRun> | undefined;
  let served: { entries: ServeEntry[]; ready: Ready } | undefined;
  const get = () => {
    if (!served) throw new Error('serve did not start');
    return served;
  };
  before(async function () {
    this.timeout(40_000);
    busy = createServer();
    await new Promise<void>((resolve) => busy?.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as { port: number }).port;
    full = startBin(['serve', '--json']);
    small = startBin(['serve', 'healthy', '--json']);
    portInUse = runBin(['serve', '--port', String(busyPort)]);
    await Promise.all([full.waitFor('"ready":true', 35_000), small.waitFor('"ready":true', 35_000), portInUse]);
    served = parseJsonLines(full.stdout());
  });
  after(async () => {
    await Promise.all([full?.shutdown(), small?.shutdown()]);
    await portInUse;
    await new Promise<void>((resolve) => (busy ? busy.close(() => resolve()) : resolve()));
  });

  describe('`tls-harness serve --json`, run as a process', () => {
    it('prints one JSON line per scenario, in catalog order, then {"ready":true} with the index URL, the PEM directory and its pid', () => {
      const { entries, ready } = get();
      expect(entries.map((e) => e.id)).to.deep.equal(SCENARIOS.map((s) => s.id));
      expect(Object.keys(ready)).to.deep.equal(['ready', 'index', 'dir', 'pid']);
      expect(ready.pid).to.equal(full?.child.pid);
      expect(ready.ready).to.equal(true);
      expect(ready.index).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      // A private temp dir (mkdtemp: mode 0700), removed on stop (the SIGTERM test below).
      expect(ready.dir.startsWith(join(tmpdir(), 'tls-harness-'))).to.equal(true);
      expect(statSync(ready.dir).mode & 0o777).to.equal(0o700);
    });

    it('each line is { id, family, title, host, port, servername, url, expect, caFile, clientCertFile?, clientKeyFile?, crlFile? }, as the scenario declares it', async () => {
      const { entries, ready } = get();
      for (const [index, scenario] of SCENARIOS.entries()) {
        const entry = entries[index] as ServeEntry;
        const { client } = await scenarioMaterial(scenario);
        const base = { id: scenario.id, family: scenario.family, title: scenario.title, expect: scenario.expect };
        const startup = scenario.startup?.node;
        if (startup?.kind === 'throws') {
          expect(entry).to.deep.equal({ ...base, error: `${startup.code}: ${startup.message}` });
          continue;
        }
        expect(entry.error, scenario.id).to.equal(undefined);
        const servername = 'servername' in client ? (client.servername ?? null) : 'localhost';
        expect(entry, scenario.id).to.deep.include({
          ...base,
          host: '127.0.0.1',
          servername,
          url: `https://${servername ?? '127.0.0.1'}:${entry.port}/`,
        });
        expect(entry.caFile, scenario.id).to.equal(client.ca && client.ca.length > 0 ? join(ready.dir, `${scenario.id}.ca.pem`) : null);
        // The bin minted its own PKI: the same CAs by name, not by key.
        if (entry.caFile)
          expect(subjects(readFileSync(entry.caFile, 'utf8')), scenario.id).to.deep.equal(
            (client.ca ?? []).map((pem) => new X509Certificate(pem).subject),
          );
        expect(entry.clientCertFile !== undefined, scenario.id).to.equal(client.cert !== undefined);
        expect(entry.crlFile !== undefined, scenario.id).to.equal(client.crl !== undefined);
      }
    });

    it('serves what it lists: healthy is accepted with its caFile, expired-leaf fails with CERT_HAS_EXPIRED', async () => {
      const byId = new Map(get().entries.map((e) => [e.id, e]));
      const connect = async (id: string) => {
        const entry = byId.get(id) as ServeEntry;
        const ca = [readFileSync(entry.caFile as string, 'utf8')];
        const outcome = await probeTlsConnect({ host: '127.0.0.1', port: entry.port as number }, { ca, servername: 'localhost' });
        return outcome.ok ? `ok ${outcome.body?.trim()}` : outcome.code;
      };
      expect([await connect('healthy'), await connect('expired-leaf')]).to.deep.equal(['ok ok healthy TLSv1.3', 'CERT_HAS_EXPIRED']);
    });

    const noChromium = chromium ? undefined : 'Chromium is not installed (apt-get install chromium)';
    itNeeds(
      noChromium,
      'the index page, loaded in headless Chromium, lists every scenario with its family, title and expected outcome, linked to its URL',
      async function (this: Mocha.Context) {
        this.timeout(40_000);
        const dom = await dumpDom(get().ready.index);
        const rows = [
          ...dom.matchAll(
            /<tr id="scenario-([^"]+)" data-scenario-id="[^"]+" data-family="([^"]+)" data-expect="([^"]+)">([\s\S]*?)<\/tr>/g,
          ),
        ];
        expect(rows.map((r) => r[1])).to.deep.equal(SCENARIOS.map((s) => s.id));
        for (const [index, scenario] of SCENARIOS.entries()) {
          const [, , family, verdict, cells = ''] = rows[index] as RegExpMatchArray;
          const entry = get().entries[index] as ServeEntry;
          expect({ family, verdict }, scenario.id).to.deep.equal({ family: scenario.family, verdict: scenario.expect });
          expect(unescape(cells), scenario.id)
            .to.include(`<strong>${scenario.title}</strong>`)
            .and.include(`<span class="verdict ${scenario.expect}">${scenario.expect}</span>`);
          if (entry.url) expect(unescape(cells), scenario.id).to.include(`<a href="${entry.url}">${scenario.id}</a>`);
        }
        expect(dom).to.match(
          new RegExp(
            `<p id="summary">${SCENARIOS.length} endpoints on 127\\.0\\.0\\.1, ${SCENARIOS.filter((s) => s.expect === 'reject').length} of which a strict client must reject`,
          ),
        );
      },
    );

    it('SIGTERM: it closes every endpoint and the index, removes the PEM directory and exits 0 within a second', async () => {
      const { entries, ready } = get();
      const stopped = await (full as BinProcess).signal('SIGTERM');
      expect(stopped.code).to.equal(0);
      expect(stopped.ms).to.be.below(1000);
      expect(existsSync(ready.dir)).to.equal(false);
      const healthy = entries.find((e) => e.id === 'healthy') as ServeEntry;
      const outcome = await probeTlsConnect({ host: '127.0.0.1', port: healthy.port as number }, {});
      expect(outcome.code).to.equal('ECONNREFUSED');
    });
  });

  it('SIGINT (Ctrl-C) stops it the same way: exit 0 within a second', async () => {
    const stopped = await (small as BinProcess).signal('SIGINT');
    expect({ code: stopped.code, fast: stopped.ms < 1000 }).to.deep.equal({ code: 0, fast: true });
  });

  it('`serve healthy wrong-host --out DIR` prints a table with the index URL, and keeps the PEM files in DIR after it stops', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tls-harness-out-'));
    try {
      const stop = new AbortController();
      // Stops it also when it never gets ready (the assertions below then fail), so nothing is left listening.
      const deadline = setTimeout(() => stop.abort(), 20_000);
      let printed = '';
      const run = cli(['serve', 'healthy', 'wrong-host', '--out', dir], { signal: stop.signal }, (text) => {
        printed += text;
        if (printed.includes('Press Ctrl-C to stop.')) stop.abort();
      });
      const { code, out, err } = await run.finally(() => clearTimeout(deadline));
      expect({ code, err }).to.deep.equal({ code: 0, err: '' });
      const lines = out.split('\n');
      expect(lines[0]).to.match(/^FAMILY\s+ID\s+STRICT CLIENT\s+URL$/);
      expect(lines[1]).to.match(/^control\s+healthy\s+accept\s+https:\/\/localhost:\d+\/$/);
      expect(lines[2]).to.match(/^hostname\s+wrong-host\s+reject\s+https:\/\/localhost:\d+\/$/);
      expect(out).to.match(/\nServing 2 endpoints on 127\.0\.0\.1\. Index: http:\/\/127\.0\.0\.1:\d+\/\n/);
      expect((await readdir(dir)).sort()).to.deep.equal(['healthy.ca.pem', 'wrong-host.ca.pem']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('bad input: one line on stderr, exit code 2, nothing left listening', () => {
    const cases: Array<[string, () => string[], () => string]> = [
      [
        'an unknown scenario id',
        () => ['serve', 'healthy', 'no-such-scenario'],
        () => 'tls-harness: unknown scenario: no-such-scenario (see `tls-harness catalog`)\n',
      ],
      ['a port in use', () => ['serve', 'healthy', '--port', String(busyPort)], () => `tls-harness: port ${busyPort} is in use (--port)\n`],
      [
        'a port that is no port',
        () => ['serve', '--port', '70000'],
        () => 'tls-harness: --port must be a port number (0–65535), not "70000"\n',
      ],
      [
        '--out that is a file',
        () => ['serve', 'healthy', '--out', 'package.json'],
        () => 'tls-harness: cannot write to --out package.json: EEXIST\n',
      ],
    ];
    for (const [what, args, message] of cases) {
      it(`${what}: ${JSON.stringify(message().replace(' 0 ', ' PORT ').trim())}`, async () => {
        const [resources, temps] = [activeResources(), harnessTempDirs()];
        expect(await cli(args())).to.deep.equal({ code: 2, out: '', err: message() });
        await expectNothingLeft(resources, temps);
      });
    }

    it('the bin exits 2 with that one line (port in use) before it starts anything', async () => {
      expect(await portInUse).to.deep.equal({ code: 2, out: '', err: `tls-harness: port ${busyPort} is in use (--port)\n` });
    });
  });

  it('`tls-harness --help` lists serve, check and diagnose', async () => {
    const { code, out } = await cli(['--help']);
    expect(code).to.equal(0);
    expect(out)
      .to.match(/\n {2}serve {7}serve every scenario/)
      .and.match(/\n {2}check {7}test any TLS client/)
      .and.match(/\n {2}diagnose {4}connect to <url \| host:port>/);
  });

  it('--help shows the usage, the JSON fields and examples', async () => {
    const { code, out } = await cli(['serve', '--help']);
    expect(code).to.equal(0);
    expect(out).to.match(/^Usage: tls-harness serve \[ids…\] \[--json\] \[--out DIR\] \[--port N\] \[--keep-running\]\n/);
    expect(out).to.include('"clientCertFile"?').and.include('{ "ready": true, "index", "dir", "pid" }').and.include('Examples:');
  });
});

describe('`npx tls-harness serve --json &` stopped the way a CI script stops it: `kill $!`', function () {
  // npx runs the bin through `sh -c`; a SIGTERM to npx is not passed on. serve watches its parent instead: when the
  // process that started it is gone, it stops as it would on SIGTERM. The project holds nothing but the bin, linked.
  let project: string | undefined;
  let npx: BinProcess | undefined;
  let servePid: number | undefined;
  // On the node backend whatever TLS_HARNESS_SERVER says: what is under test is the parent watch, and a container
  // takes seconds to stop.
  const { TLS_HARNESS_SERVER: _backend, ...env } = process.env;
  /** serve started through npx, ready, and npx then sent SIGTERM and gone. */
  const serveThenKillNpx = async (...flags: string[]) => {
    npx = startCommand('npx', ['--no', '--', 'tls-harness', 'serve', 'expired-leaf', '--json', ...flags], project as string, env);
    await npx.waitFor('"ready":true', 35_000);
    const served = parseJsonLines(npx.stdout());
    servePid = served.ready.pid;
    expect(servePid).to.not.equal(npx.child.pid);
    const npxExited = new Promise((resolve) => npx?.child.once('exit', resolve));
    npx.child.kill('SIGTERM');
    await npxExited;
    return served;
  };
  before(async () => {
    project = await mkdtemp(join(tmpdir(), 'tls-harness-npx-'));
    await writeFile(join(project, 'package.json'), '{ "name": "npx-consumer", "private": true }\n');
    await mkdir(join(project, 'node_modules', '.bin'), { recursive: true });
    await symlink(BIN, join(project, 'node_modules', '.bin', 'tls-harness'));
  });
  after(async () => {
    // A serve left running (a failed spec): SIGTERM first, so that it still removes its PEM directory; only then is
    // npx's process group, which serve belongs to, killed.
    if (servePid !== undefined && isRunning(servePid)) {
      process.kill(servePid, 'SIGTERM');
      const sent = performance.now();
      while (isRunning(servePid) && performance.now() - sent < 3000) await delay(50);
    }
    npx?.stop();
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('SIGTERM to the npx process alone: serve exits, its ports refuse connections and its PEM directory is gone', async function () {
    this.timeout(40_000);
    const { entries, ready } = await serveThenKillNpx();
    const pid = servePid as number;
    const sent = performance.now();
    while (isRunning(pid) && performance.now() - sent < 5000) await delay(50); // it polls its parent every 0.5 s
    expect({ running: isRunning(pid), dirLeft: existsSync(ready.dir) }).to.deep.equal({ running: false, dirLeft: false });
    const outcome = await probeTlsConnect({ host: '127.0.0.1', port: entries[0]?.port as number }, {});
    expect(outcome.code).to.equal('ECONNREFUSED');
  });

  it('--keep-running: it still serves 2 s (four of its parent checks) after npx is gone, and SIGTERM to its pid stops it', async function () {
    this.timeout(40_000);
    const { entries, ready } = await serveThenKillNpx('--keep-running');
    const pid = servePid as number;
    await delay(2000);
    const entry = entries[0] as ServeEntry;
    const ca = [readFileSync(entry.caFile as string, 'utf8')];
    const stillServing = await probeTlsConnect({ host: '127.0.0.1', port: entry.port as number }, { ca, servername: 'localhost' });
    expect({ running: isRunning(pid), code: stillServing.code }).to.deep.equal({ running: true, code: 'CERT_HAS_EXPIRED' });
    process.kill(pid, 'SIGTERM');
    const sent = performance.now();
    while (isRunning(pid) && performance.now() - sent < 5000) await delay(50);
    expect({ running: isRunning(pid), dirLeft: existsSync(ready.dir) }).to.deep.equal({ running: false, dirLeft: false });
  });
});
