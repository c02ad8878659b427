import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { main } from '../harness/cli/main.ts';
import type { Io } from '../harness/cli/io.ts';
import { FAMILIES, RUNNING, SCENARIOS } from '../harness/index.ts';
import { resolveScenario, type ResolvedCase } from '../harness/catalog/evaluate.ts';
import { BIN, REPO, startBin, startCommand } from './support/cli.ts';

// Node + tsx take ~0.5 s to start: launch the bin while the spec files load, so the start-up overlaps the suite.
const binHelp = promisify(execFile)(process.execPath, [BIN, '--help'], { timeout: 20_000 });
binHelp.catch(() => undefined); // reported by the test that awaits it, also when --grep leaves that test out
const binPipedToEarlyClose = readFirstByteOnly(['catalog', '--json']);

/** Start the bin, read one chunk of its stdout, close the pipe; resolves with its exit code and stderr. */
async function readFirstByteOnly(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const run = startBin(args);
  run.child.stdout?.once('data', () => run.child.stdout?.destroy());
  const timer = setTimeout(() => run.stop(), 20_000);
  const { code } = await run.exited;
  clearTimeout(timer);
  return { code, stderr: run.stderr() };
}

/** Run the CLI in-process and capture what it writes. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (text) => void (out += text), err: (text) => void (err += text) };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('the tls-harness CLI', () => {
  describe('catalog', () => {
    it('prints one row per scenario with family, id, strict-client verdict and title, then the count', async () => {
      const { code, out } = await cli('catalog');
      expect(code).to.equal(0);
      const lines = out.trimEnd().split('\n');
      expect(lines[0]).to.match(/^FAMILY\s+ID\s+STRICT CLIENT\s+TITLE$/);
      for (const scenario of SCENARIOS) {
        expect(
          lines.some((line) => line.split(/\s{2,}/).join('|') === `${scenario.family}|${scenario.id}|${scenario.expect}|${scenario.title}`),
          scenario.id,
        ).to.equal(true);
      }
      const rejects = SCENARIOS.filter((s) => s.expect === 'reject').length;
      expect(lines.at(-1)).to.equal(`${SCENARIOS.length} scenarios (${rejects} a strict client must reject)`);
    });

    it("--json prints every scenario with each client's expected outcome, resolved for this Node: what the specs assert", async () => {
      const { code, out } = await cli('catalog', '--json');
      expect(code).to.equal(0);
      const catalog = JSON.parse(out) as { node: string; openssl: string; scenarios: Array<Record<string, unknown>> };
      expect({ node: catalog.node, openssl: catalog.openssl }).to.deep.equal({ node: process.version, openssl: process.versions.openssl });
      expect(catalog.scenarios).to.deep.equal(
        SCENARIOS.map((scenario) => {
          const { id, family, title, cause, fix, expect: verdict } = scenario;
          const { cases, tools, startup } = resolveScenario(scenario, RUNNING);
          return JSON.parse(
            JSON.stringify({ id, family, title, cause, fix, expect: verdict, cases, tools, ...(startup ? { startup } : {}) }),
          ) as Record<string, unknown>;
        }),
      );
      const expired = catalog.scenarios.find((s) => s.id === 'expired-leaf') as {
        cases: ResolvedCase[];
        tools: { broken: Record<string, unknown> };
      };
      expect(expired.cases[0]?.outcomes['TLSv1.3']?.['tls.connect']).to.deep.equal({
        kind: 'fails',
        code: 'CERT_HAS_EXPIRED',
        message: 'certificate has expired',
      });
      expect(expired.tools.broken.curl).to.deep.equal({
        default: { kind: 'curl', exit: 60, error: 'SSL certificate problem: certificate has expired' },
      });
    });

    it('--family trust lists only the trust scenarios', async () => {
      const { out } = await cli('catalog', '--json', '--family', 'trust');
      const ids = (JSON.parse(out) as { scenarios: Array<{ id: string }> }).scenarios.map((s) => s.id);
      expect(ids).to.deep.equal(SCENARIOS.filter((s) => s.family === 'trust').map((s) => s.id));
      expect(ids).to.include('untrusted-root-in-chain');
    });

    it('--versions lists the outcomes that differ between the documented Node lines, and counts them', async () => {
      const { code, out } = await cli('catalog', '--versions');
      expect(code).to.equal(0);
      expect(out).to.include(
        "rsa-1024-leaf tls.connect TLSv1.3:\n    Node 20: ok\n    Node 22: ok\n    Node 24: UNSPECIFIED: 'EE certificate key too weak'\n",
      );
      // One heading per outcome that differs, then the count: a new difference in a declaration changes both.
      const lines = out.trimEnd().split('\n');
      expect(lines.filter((line) => !line.startsWith(' ')).length).to.equal(63);
      expect(lines.at(-1)).to.equal('62 outcomes differ across Node 20, Node 22, Node 24, Node 26');
    });

    it('two output formats at once (--json --limbo) is one line on stderr and exit code 2', async () => {
      expect(await cli('catalog', '--json', '--limbo')).to.deep.equal({
        code: 2,
        out: '',
        err: 'tls-harness: choose one of --json, --limbo\n',
      });
    });

    it('an unknown family is one line on stderr and exit code 2', async () => {
      const { code, out, err } = await cli('catalog', '--family', 'nope');
      expect(code).to.equal(2);
      expect(out).to.equal('');
      expect(err).to.equal(`tls-harness: unknown family: nope (one of: ${FAMILIES.join(', ')})\n`);
    });
  });

  it('an unknown command is one line on stderr and exit code 2', async () => {
    const { code, err } = await cli('frobnicate');
    expect(code).to.equal(2);
    expect(err).to.equal('tls-harness: unknown command: frobnicate (try tls-harness --help)\n');
  });

  it('an unknown option is one line on stderr and exit code 2', async () => {
    const { code, err } = await cli('catalog', '--bogus');
    expect(code).to.equal(2);
    expect(err).to.equal("tls-harness: Unknown option '--bogus'\n");
  });

  it('--version and -v print the version in package.json and exit 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await cli('--version')).to.deep.equal({ code: 0, out: `${version}\n`, err: '' });
    expect(await cli('-v')).to.deep.equal({ code: 0, out: `${version}\n`, err: '' });
  });

  it('a reader that closes the pipe early (`catalog --json | head -c 1`) ends the bin quietly with status 141, as SIGPIPE would', async () => {
    const { code, stderr } = await binPipedToEarlyClose;
    expect({ code, stderr }).to.deep.equal({ code: 141, stderr: '' });
  });

  it('serve whose reader is gone before it writes (`serve --json | true`) stops, removes its PEM directory and exits 141', async function () {
    this.timeout(40_000);
    const tmp = await mkdtemp(join(tmpdir(), 'tls-harness-pipe-'));
    try {
      const serve = startCommand(process.execPath, [BIN, 'serve', 'healthy', '--json'], REPO, { ...process.env, TMPDIR: tmp });
      serve.child.stdout?.destroy(); // the read end closes before serve has written anything
      const timer = setTimeout(() => serve.stop(), 30_000);
      const { code } = await serve.exited;
      clearTimeout(timer);
      // (tsx keeps its own cache there, tsx-<uid>, in a checkout)
      const left = (await readdir(tmp)).filter((name) => name.startsWith('tls-harness-'));
      expect({ code, stderr: serve.stderr(), left }).to.deep.equal({ code: 141, stderr: '', left: [] });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('the installed bin runs: `tls-harness --help` prints the usage and exits 0', async () => {
    const { stdout } = await binHelp;
    expect(stdout).to.match(/^tls-harness — local TLS endpoints broken on purpose/);
    expect(stdout).to.include('catalog');
  });
});
