import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import type { CheckResult } from '../harness/cli/check.ts';
import { SCENARIOS } from '../harness/index.ts';
import { stubCannotBeGraded } from '../harness/cli/client-settings.ts';
import { itNeeds, loadMaterials, materialOf } from './support/runner.ts';
import {
  REPO,
  activeResources,
  cli,
  expectNothingLeft,
  findExecutable,
  harnessTempDirs,
  muteWeakDhWarnings,
  type CliRun,
} from './support/cli.ts';

// `tls-harness check -- CMD ARGS…` runs CMD ARGS… <host> <port> [<ca-bundle>] once per scenario (a trytls client
// stub), reads ACCEPT / REJECT / UNSUPPORTED from its last line and grades it against what a strict client must do.
// The shipped stubs are graded on the whole catalog here, and every PASS, FAIL and SKIP is pinned.

const python = findExecutable('/usr/bin/python3', 'python3'); // /usr/bin first: a pyenv shim costs ~0.7 s a start
const curl = findExecutable('curl');
const stub = (name: string) => join(REPO, 'stubs', name);

/**
 * Scenarios no stub is graded on, and why: the verdict assumes a client setting that host, port and CA bundle cannot
 * carry, a host name whose fate depends on how the client spells it on the wire, or a server that cannot start at all.
 * Derived from the declarations' features (harness/features.ts), as `check` derives them; PINNED holds one scenario of
 * every rule to its exact words, so a rule that changes fails here, not only in `check`'s output.
 */
await loadMaterials();
const SKIPPED: Record<string, string> = Object.fromEntries(
  SCENARIOS.flatMap((scenario) => {
    const startup = scenario.startup?.node;
    if (startup?.kind === 'throws')
      return [[scenario.id, `the server cannot start (${startup.code}: ${startup.message}): there is nothing to connect to`]];
    const reason = stubCannotBeGraded(scenario, materialOf(scenario.id));
    return reason === undefined ? [] : [[scenario.id, reason]];
  }),
);
const STUB_GETS = 'a stub gets only host, port and CA bundle';
const PINNED: Record<string, string> = {
  'trailing-dot-sni':
    'the server picks its certificate by SNI and the host name localhost. ends in a dot: the verdict depends on whether the ' +
    'client sends the dot in SNI (Node does; RFC 6066 says not to)',
  'idn-unicode-host':
    'the host name bücher.test is not ASCII: whether it fails depends on whether the client converts it to its A-label ' +
    '(punycode) first',
  'dhe-1024': `the client demands DH groups of at least 2048 bits (minDHSize): ${STUB_GETS}`,
  'revoked-leaf': `the client checks the chain against 2 CRL(s): ${STUB_GETS}`,
  'revoked-no-crl': `the certificate's revocation is known only from the CRLs its fix gives the client: ${STUB_GETS}`,
  'untrusted-client-cert': `the client presents a certificate: ${STUB_GETS}`,
  'tls13-server-tls12-client': `the client's highest TLS version is TLSv1.2: ${STUB_GETS}`,
  'no-shared-cipher': `the client offers only the ciphers ECDHE-ECDSA-CHACHA20-POLY1305: ${STUB_GETS}`,
  'alpn-mismatch': `the client offers ALPN http/1.1: ${STUB_GETS}`,
  'reject-unauthorized-false': `the client sets rejectUnauthorized: false: ${STUB_GETS}`,
  'certificate-pin-mismatch': `the client checks the server identity with a function of its own (checkServerIdentity): ${STUB_GETS}`,
  'key-certificate-mismatch':
    'the server cannot start (ERR_OSSL_X509_KEY_VALUES_MISMATCH: error:05800074:x509 certificate routines::key values ' +
    'mismatch): there is nothing to connect to',
};

interface StubCase {
  name: string;
  command: () => string[];
  missing?: () => string | undefined;
  /** The scenarios it FAILs, and why. Everything not failed and not skipped PASSes. */
  fails: Record<string, string>;
  /** How the it-title names the FAILs (default: by id). */
  failTitle?: string;
}

const STRICT_STUBS: StubCase[] = [
  { name: 'stubs/node.mjs (node:https, made strict)', command: () => [process.execPath, stub('node.mjs')], fails: {} },
  {
    name: 'stubs/python.py (ssl.create_default_context, made strict)',
    command: () => [python as string, stub('python.py')],
    missing: () => (python ? undefined : 'python3 is not installed'),
    fails: {},
  },
  {
    name: 'stubs/curl.sh (curl as it comes)',
    command: () => [stub('curl.sh')],
    missing: () => (curl ? undefined : 'curl is not installed'),
    fails: {
      'cn-only': 'curl still matches the subject CN when a certificate has no subjectAltName',
      'only-intermediate-trusted': 'curl lets a trusted intermediate end the chain (it sets X509_V_FLAG_PARTIAL_CHAIN)',
    },
  },
];

/** Rejections even a client with verification switched off gets: the connection itself fails. */
const REJECTED_WITHOUT_VERIFICATION = [
  'rsa-512-leaf',
  'missing-client-cert',
  'legacy-tls-server',
  'plain-http-on-tls-port',
  'closed-before-handshake',
  'handshake-never-completes',
  'oversize-certificate',
];
const graded = SCENARIOS.filter((s) => !(s.id in SKIPPED));
const LAX_STUB: StubCase = {
  name: 'stubs/lax-curl.sh (curl --insecure: verification off)',
  command: () => [stub('lax-curl.sh')],
  missing: () => (curl ? undefined : 'curl is not installed'),
  failTitle: `every scenario a strict client must reject, except the ${REJECTED_WITHOUT_VERIFICATION.length} whose connection fails whatever the client verifies`,
  fails: Object.fromEntries(
    graded.filter((s) => s.expect === 'reject' && !REJECTED_WITHOUT_VERIFICATION.includes(s.id)).map((s) => [s.id, 'verification is off']),
  ),
};

function results(run: CliRun): { rows: CheckResult[]; summary: { passed: number; failed: number; skipped: number } } {
  const lines = run.out
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    rows: lines.slice(0, -1) as unknown as CheckResult[],
    summary: lines.at(-1) as { passed: number; failed: number; skipped: number },
  };
}

const ids = (rows: CheckResult[], result: CheckResult['result']) => rows.filter((r) => r.result === result).map((r) => r.id);

describe('tls-harness check: any TLS client, graded against the catalog', function () {
  it(`the features skip the ${Object.keys(PINNED).length} pinned scenarios, one per rule, with these exact words (every stub's SKIP rows must equal them)`, () => {
    for (const [id, reason] of Object.entries(PINNED)) expect(SKIPPED[id], id).to.equal(reason);
  });
  muteWeakDhWarnings();
  // The four stubs run concurrently, three processes each at a time: their start-up dominates.
  const runs = new Map<string, CliRun>();
  before(async function () {
    this.timeout(180_000);
    await Promise.all(
      [...STRICT_STUBS, LAX_STUB]
        .filter((c) => c.missing?.() === undefined)
        .map(async (c) => runs.set(c.name, await cli(['check', '--json', '--timeout', '6', '--jobs', '3', '--', ...c.command()]))),
    );
  });

  for (const stubCase of [...STRICT_STUBS, LAX_STUB]) {
    const failed = Object.keys(stubCase.fails);
    const passed = graded.filter((s) => !failed.includes(s.id)).map((s) => s.id);
    describe(stubCase.name, () => {
      const run = () => {
        const result = runs.get(stubCase.name);
        if (!result) throw new Error(`${stubCase.name} did not run`);
        return result;
      };
      const missing = stubCase.missing?.();
      const exitCode = failed.length > 0 ? 1 : 0;
      itNeeds(
        missing,
        `exits ${exitCode} and ends with {"passed":${passed.length},"failed":${failed.length},"skipped":${Object.keys(SKIPPED).length}}`,
        () => {
          const { summary } = results(run());
          expect({ code: run().code, summary }).to.deep.equal({
            code: exitCode,
            summary: { passed: passed.length, failed: failed.length, skipped: Object.keys(SKIPPED).length },
          });
        },
      );

      const failTitle = stubCase.failTitle ?? (failed.map((id) => `${id} (${stubCase.fails[id]})`).join(', ') || 'nothing');
      itNeeds(missing, `FAILs ${failTitle}: ${failed.length}${failed.length > 0 ? ', each a reject it ACCEPTed' : ''}`, () => {
        const { rows } = results(run());
        expect(ids(rows, 'FAIL')).to.deep.equal([...failed].sort(byCatalog));
        for (const row of rows.filter((r) => r.result === 'FAIL')) {
          expect(row, JSON.stringify(row)).to.include({ expect: 'reject', verdict: 'ACCEPT' });
        }
      });

      itNeeds(
        missing,
        `PASSes the other ${passed.length} scenarios, and SKIPs the ${Object.keys(SKIPPED).length} no stub is graded on, each with its reason`,
        () => {
          const { rows } = results(run());
          expect(ids(rows, 'PASS')).to.deep.equal(passed);
          expect(ids(rows, 'SKIP')).to.deep.equal(SCENARIOS.filter((s) => s.id in SKIPPED).map((s) => s.id));
          for (const row of rows.filter((r) => r.result === 'SKIP')) expect(row.reason, row.id).to.equal(SKIPPED[row.id]);
        },
      );
    });
  }

  describe('the stub convention', () => {
    it('the stub gets <host> <port> [<ca-bundle>] and TLS_HARNESS_ADDRESS=127.0.0.1; the bundle is left out where the client trusts the system store', async () => {
      const script = 'echo "host=$1 port=$2 ca=${3:+bundle} address=$TLS_HARNESS_ADDRESS scenario=$TLS_HARNESS_SCENARIO"; echo ACCEPT';
      const only = 'healthy,ip-literal-vs-dns-san,wildcard-one-level,private-ca-default-store';
      const run = await cli(['check', '--json', '--only', only, '--', 'sh', '-c', script, 'stub']);
      const context = results(run).rows.map((r) => r.context?.replace(/port=\d+/, 'port=N'));
      expect(context).to.deep.equal([
        'host=localhost port=N ca=bundle address=127.0.0.1 scenario=healthy',
        'host=a.example.test port=N ca=bundle address=127.0.0.1 scenario=wildcard-one-level',
        'host=127.0.0.1 port=N ca=bundle address=127.0.0.1 scenario=ip-literal-vs-dns-san',
        'host=localhost port=N ca= address=127.0.0.1 scenario=private-ca-default-store',
      ]);
    });

    it('prints one line per scenario with the stub’s own words, then "N passed, M failed, K skipped"; exit 0 when nothing failed', async () => {
      const run = await cli([
        'check',
        '--only',
        'healthy,expired-leaf,revoked-no-crl',
        '--skip',
        'revoked-no-crl',
        '--',
        process.execPath,
        stub('node.mjs'),
      ]);
      expect(run).to.deep.equal({
        code: 0,
        out:
          'PASS  healthy         expected accept, got ACCEPT — TLSv1.3 HTTP 200\n' +
          'PASS  expired-leaf    expected reject, got REJECT — CERT_HAS_EXPIRED: certificate has expired\n' +
          'SKIP  revoked-no-crl  skipped on the command line (--skip)\n' +
          '2 passed, 0 failed, 1 skipped\n',
        err: '',
      });
    });

    itNeeds(
      curl ? undefined : 'curl is not installed',
      'a stub that honours no TLS_HARNESS_ADDRESS fails the canary, so the named-host scenarios are SKIPped, not mis-graded',
      async () => {
        // Resolves a.b.example.test by DNS, finds nothing, and says REJECT: right for the wrong reason.
        const script = 'curl -s -o /dev/null --cacert "$3" "https://$1:$2/" && echo ACCEPT || echo REJECT';
        const run = await cli(['check', '--json', '--only', 'healthy,wildcard-too-deep', '--', 'sh', '-c', script, 'stub']);
        const [healthy, deep] = results(run).rows;
        expect(healthy).to.include({ id: 'healthy', result: 'PASS' });
        expect(deep).to.include({ id: 'wildcard-too-deep', result: 'SKIP' });
        expect(deep?.reason).to.match(
          /^the host is a\.b\.example\.test, and the stub did not accept the canary https:\/\/canary\.tls-harness\.test\/ \(REJECT\); it seems not to connect to TLS_HARNESS_ADDRESS/,
        );
      },
    );

    it('no verdict is a FAIL with the reason: a stub killed at --timeout (with what it started), one that prints no verdict; UNSUPPORTED is a SKIP', async () => {
      const nap = `${30 + (process.pid % 60)}.${Date.now() % 997}`; // a sleep no other process is doing
      const script = `case $TLS_HARNESS_SCENARIO in healthy) echo hello ;; expired-leaf) echo "not today" ; echo UNSUPPORTED ;; *) sleep ${nap} ;; esac`;
      const run = await cli([
        'check',
        '--json',
        '--timeout',
        '1',
        '--only',
        'healthy,expired-leaf,wrong-host',
        '--',
        'sh',
        '-c',
        script,
        'stub',
      ]);
      const rows = results(run).rows.map(({ id, result, reason, context }) => ({ id, result, reason, context }));
      expect({ code: run.code, rows }).to.deep.equal({
        code: 1,
        rows: [
          { id: 'healthy', result: 'FAIL', reason: 'no verdict: the stub ended with "hello" (exit code 0)', context: undefined },
          { id: 'expired-leaf', result: 'SKIP', reason: 'the stub says UNSUPPORTED', context: 'not today' },
          { id: 'wrong-host', result: 'FAIL', reason: 'no verdict within 1 s: the stub was killed', context: undefined },
        ],
      });
      expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).to.not.match(new RegExp(`^sleep ${nap.replace('.', '\\.')}$`, 'm'));
    });
  });

  describe('bad input: one line on stderr, exit code 2, nothing started', () => {
    const cases: Array<[string, string[], string]> = [
      [
        'an unknown scenario id',
        ['--only', 'no-such-scenario', '--', 'true'],
        'tls-harness: unknown scenario: no-such-scenario (see `tls-harness catalog`)\n',
      ],
      ['a missing stub command', ['--', './stubs/no-such-stub.sh'], 'tls-harness: stub command not found: ./stubs/no-such-stub.sh\n'],
      [
        'a stub that is not executable',
        ['--', './README.md'],
        'tls-harness: stub command is not executable: ./README.md (chmod +x, or run it through its interpreter)\n',
      ],
      ['no stub command at all', [], 'tls-harness: no stub command given: tls-harness check [options] -- CMD [ARGS…]\n'],
      ['a bad --timeout', ['--timeout', 'soon', '--', 'true'], 'tls-harness: --timeout must be a positive number of seconds, not "soon"\n'],
    ];
    for (const [what, args, message] of cases) {
      it(`${what}: ${JSON.stringify(message.trim())}`, async () => {
        const [resources, temps] = [activeResources(), harnessTempDirs()];
        expect(await cli(['check', ...args])).to.deep.equal({ code: 2, out: '', err: message });
        await expectNothingLeft(resources, temps);
      });
    }
  });

  it('--help describes the stub convention', async () => {
    const { code, out } = await cli(['check', '--help']);
    expect(code).to.equal(0);
    expect(out).to.match(/^Usage: tls-harness check \[--json\] \[--only ids\]/);
    expect(out).to.include('CMD ARGS… <host> <port> [<ca-bundle>]').and.include('TLS_HARNESS_ADDRESS=127.0.0.1');
  });
});

function byCatalog(a: string, b: string): number {
  return SCENARIOS.findIndex((s) => s.id === a) - SCENARIOS.findIndex((s) => s.id === b);
}
