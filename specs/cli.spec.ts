import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { main } from '../harness/cli/main.ts';
import type { Io } from '../harness/cli/io.ts';
import { FAMILIES, SCENARIOS } from '../harness/index.ts';

// Node + tsx take ~0.5 s to start: launch the bin while the spec files load, so the start-up overlaps the suite.
const bin = fileURLToPath(new URL('../bin/tls-harness.js', import.meta.url));
const binHelp = promisify(execFile)(process.execPath, [bin, '--help'], { timeout: 20_000 });

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
        expect(lines.some((line) => line.split(/\s{2,}/).join('|') === `${scenario.family}|${scenario.id}|${scenario.expect}|${scenario.title}`), scenario.id).to.equal(true);
      }
      const rejects = SCENARIOS.filter((s) => s.expect === 'reject').length;
      expect(lines.at(-1)).to.equal(`${SCENARIOS.length} scenarios (${rejects} a strict client must reject)`);
    });

    it('--json prints every scenario as { id, family, title, cause, fix, expect }', async () => {
      const { code, out } = await cli('catalog', '--json');
      expect(code).to.equal(0);
      expect(JSON.parse(out)).to.deep.equal(
        SCENARIOS.map(({ id, family, title, cause, fix, expect: verdict }) => ({ id, family, title, cause, fix, expect: verdict })),
      );
    });

    it('--family trust lists only the trust scenarios', async () => {
      const { out } = await cli('catalog', '--json', '--family', 'trust');
      const ids = (JSON.parse(out) as Array<{ id: string; family: string }>).map((s) => s.family);
      expect(ids.length).to.be.greaterThan(0);
      expect(new Set(ids)).to.deep.equal(new Set(['trust']));
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

  it('the installed bin runs: `tls-harness --help` prints the usage and exits 0', async () => {
    const { stdout } = await binHelp;
    expect(stdout).to.match(/^tls-harness — local TLS endpoints broken on purpose/);
    expect(stdout).to.include('catalog');
  });
});
