import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createServer as createTlsServer } from 'node:tls';
import { certificate, type Credential } from '../certs/index.ts';
import { resolveScenario } from '../harness/catalog/evaluate.ts';
import { SNI_UNSEEN } from '../harness/cli/fingerprint.ts';
import {
  RUNNING,
  SCENARIOS,
  startEndpoint,
  type ClientOptions,
  type Endpoint,
  type NodeResult,
  type ProbeName,
  type Scenario,
} from '../harness/index.ts';
import { activeResources, cli, expectNothingLeft, harnessTempDirs, muteWeakDhWarnings, runBin, type CliRun } from './support/cli.ts';

// `tls-harness diagnose <url | host:port>` connects with Node, names the catalog entry that matches what it saw, and
// prints its cause and fix and the chain the server sent. Here it diagnoses the harness's own endpoints, every one
// of them, given the settings the scenario's client has (as a user gives diagnose their client's settings).

/** Entries diagnose cannot tell apart: from the client's side, every observable is the same. */
const INDISTINGUISHABLE: Array<{ ids: string[]; why: string }> = [
  { ids: ['healthy', 'revoked-no-crl'], why: 'without a CRL nothing shows that a certificate is revoked' },
  {
    ids: ['ip-literal-vs-dns-san', 'no-sni-default-cert'],
    why: 'a client without SNI cannot see that the server has another certificate for a name',
  },
];

/**
 * Scenarios whose client diagnose cannot be configured like (a checkServerIdentity function, rejectUnauthorized:
 * false, an environment variable): they are no candidates, and their endpoint is diagnosed as the server it is.
 */
const DIAGNOSED_AS_THEIR_SERVER: Record<string, string[]> = {
  'reject-unauthorized-false': ['expired-leaf'],
  'node-tls-reject-unauthorized-0': ['expired-leaf'],
  'certificate-pin-mismatch': ['healthy', 'revoked-no-crl'],
};

/** Scenarios whose server throws before it listens: there is no endpoint to diagnose. */
const NO_ENDPOINT = ['key-certificate-mismatch', 'wrong-key-passphrase', 'der-instead-of-pem'];

function expectedNames(id: string): string[] {
  return DIAGNOSED_AS_THEIR_SERVER[id] ?? INDISTINGUISHABLE.find((group) => group.ids.includes(id))?.ids ?? [id];
}

/** The command line of a user whose client is configured like the scenario's: target, then one flag per setting. */
async function diagnoseArgs(endpoint: Endpoint, dir: string): Promise<string[]> {
  const options: ClientOptions = endpoint.clientOptions();
  const file = async (suffix: string, text: string) => {
    const path = join(dir, `${endpoint.scenario.id}.${suffix}`);
    await writeFile(path, text);
    return path;
  };
  // The scenario client's own timeout where it has one (a server that never answers), else a generous one.
  const timeout = options.timeoutMs === undefined ? '10' : String(options.timeoutMs / 1000);
  const args = ['diagnose', `127.0.0.1:${endpoint.port}`, '--json', '--timeout', timeout];
  if (options.servername !== undefined) args.push('--servername', options.servername);
  if (options.ca) args.push('--ca', await file('ca.pem', options.ca.join('')));
  if (options.cert && options.key) args.push('--cert', await file('cert.pem', options.cert), '--key', await file('key.pem', options.key));
  if (options.crl) args.push('--crl', await file('crl.pem', options.crl.join('')));
  if (options.minVersion) args.push('--min-version', options.minVersion);
  if (options.maxVersion) args.push('--max-version', options.maxVersion);
  if (options.ciphers) args.push('--ciphers', options.ciphers);
  if (options.ALPNProtocols) args.push('--alpn', options.ALPNProtocols.join(','));
  if (options.minDHSize !== undefined) args.push('--min-dh-size', String(options.minDHSize));
  return args;
}

interface ClientReport {
  ok: boolean;
  code?: string;
  errorName?: string;
  message?: string;
  cause?: { code?: string; message: string };
  status?: number;
}

interface Report {
  result: string;
  outcome: { ok: boolean; code?: string };
  clients: Record<'tls.connect' | 'https.request' | 'fetch', ClientReport>;
  agree: boolean;
  match: {
    kind: 'one' | 'ambiguous' | 'none';
    tier: string;
    score: { same: number; of: number };
    entries: Array<{ id: string; cause: string; fix: string }>;
    alsoPossible: Array<{ id: string; why: string; score: { same: number; of: number } }>;
  };
  chain: { source: string; certificates: Array<Record<string, unknown>> };
}

/** What a client's report comes to: `ok`, or the code of its error (fetch's is on its cause). */
function verdict(client: ClientReport): string {
  return client.ok ? 'ok' : (client.cause?.code ?? client.code ?? client.errorName ?? 'error');
}

/** What the declaration says a Node client comes to, resolved for this Node. */
function declaredVerdict(result: NodeResult | undefined): string {
  if (result === undefined) throw new Error('no declared outcome');
  return result.kind === 'fails' ? (result.code ?? result.unwrapped ?? 'error') : 'ok';
}

describe('tls-harness diagnose: which catalog entry is this endpoint?', function () {
  muteWeakDhWarnings();
  const runs = new Map<string, CliRun>();
  const reportOf = (id: string): Report => JSON.parse((runs.get(id) as CliRun).out) as Report;
  let dir = '';
  let binRun: Promise<CliRun> | undefined;
  let wrongHost: Endpoint | undefined;

  before(async function () {
    this.timeout(120_000);
    dir = await mkdtemp(join(tmpdir(), 'tls-harness-diagnose-'));
    // Across processes too: the bin mints its own PKI and compares with that.
    wrongHost = await startEndpoint('wrong-host');
    await writeFile(join(dir, 'bin.ca.pem'), wrongHost.ca.join(''));
    binRun = runBin(
      ['diagnose', `https://127.0.0.1:${wrongHost.port}/`, '--servername', 'localhost', '--ca', join(dir, 'bin.ca.pem')],
      60_000,
    );
    const queue = SCENARIOS.filter((s) => !NO_ENDPOINT.includes(s.id));
    let next = 0;
    const worker = async () => {
      while (next < queue.length) {
        const scenario = queue[next++] as Scenario;
        const endpoint = await startEndpoint(scenario);
        try {
          runs.set(scenario.id, await cli(await diagnoseArgs(endpoint, dir)));
        } finally {
          await endpoint.close();
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    await binRun;
  });
  after(async () => {
    await binRun;
    await wrongHost?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('every scenario with an endpoint, diagnosed with its client’s settings', () => {
    for (const scenario of SCENARIOS.filter((s) => !NO_ENDPOINT.includes(s.id))) {
      const names = expectedNames(scenario.id);
      const group = INDISTINGUISHABLE.find((g) => g.ids.includes(scenario.id));
      let title = names.length === 1 ? `${scenario.id}: names ${names[0]}` : `${scenario.id}: cannot tell apart ${names.join(' and ')}`;
      if (scenario.id in DIAGNOSED_AS_THEIR_SERVER)
        title += ' — its client cannot be reproduced from the command line, so its server is what is diagnosed';
      else if (group) title += ` — ${group.why}`;
      it(title, () => {
        const run = runs.get(scenario.id) as CliRun;
        expect(run.err).to.equal('');
        const report = JSON.parse(run.out) as Report;
        expect(report.match.kind).to.equal(names.length === 1 ? 'one' : 'ambiguous');
        expect(
          report.match.entries.map((e) => e.id),
          report.result,
        ).to.deep.equal(names);
        expect(report.match.tier).to.equal('exact');
      });
    }
    it(`${NO_ENDPOINT.join(', ')}: their servers cannot start, so there is nothing to diagnose`, async () => {
      for (const id of NO_ENDPOINT) {
        let started: Endpoint | undefined;
        try {
          started = await startEndpoint(id);
        } catch {
          continue;
        }
        await started.close();
        expect.fail(`${id} started: diagnose it`);
      }
    });
  });

  it('--json: the outcome, the entry with cause and fix, and the chain as sent (subject, issuer, validity, SANs, key, signature per certificate)', () => {
    const report = reportOf('expired-leaf');
    const [entry] = report.match.entries;
    const expired = SCENARIOS.find((s) => s.id === 'expired-leaf') as Scenario;
    expect(report.outcome).to.include({ ok: false, code: 'CERT_HAS_EXPIRED' });
    expect(entry).to.include({ id: 'expired-leaf', cause: expired.cause, fix: expired.fix });
    expect(report.chain.source).to.equal('wire');
    expect(
      report.chain.certificates.map((c) => ({
        subject: c.subject,
        issuer: c.issuer,
        validity: c.validity,
        key: c.key,
        signature: c.signature,
      })),
    ).to.deep.equal([
      {
        subject: 'CN=localhost, O=tls-harness',
        issuer: 'CN=tls-harness Intermediate CA, O=tls-harness',
        validity: 'expired',
        key: 'EC P-256',
        signature: 'ECDSA with SHA-256',
      },
      {
        subject: 'CN=tls-harness Intermediate CA, O=tls-harness',
        issuer: 'CN=tls-harness Root CA, O=tls-harness',
        validity: 'valid',
        key: 'EC P-256',
        signature: 'ECDSA with SHA-256',
      },
    ]);
    expect(report.chain.certificates[0]).to.include.keys('notBefore', 'notAfter', 'subjectAltNames', 'sha256');
    expect(report.chain.certificates[0]?.subjectAltNames).to.deep.equal([
      'DNS:localhost',
      'IP Address:127.0.0.1',
      'IP Address:0:0:0:0:0:0:0:1',
    ]);
  });

  it('exit code 0 when all three clients connect and verify (healthy), 1 when one fails (expired-leaf): every run is one or the other', () => {
    expect([runs.get('healthy')?.code, runs.get('expired-leaf')?.code]).to.deep.equal([0, 1]);
    for (const [id, run] of runs) {
      const report = JSON.parse(run.out) as Report;
      expect(run.code, id).to.equal(Object.values(report.clients).every((c) => c.ok) ? 0 : 1);
    }
  });

  it('reports https.request and fetch next to tls.connect: expired-leaf fails the same way in all three', () => {
    const report = reportOf('expired-leaf');
    expect({ agree: report.agree, verdicts: Object.values(report.clients).map(verdict) }).to.deep.equal({
      agree: true,
      verdicts: ['CERT_HAS_EXPIRED', 'CERT_HAS_EXPIRED', 'CERT_HAS_EXPIRED'],
    });
    expect(report.clients.fetch).to.deep.include({ errorName: 'TypeError', message: 'fetch failed' });
  });

  it('says where the clients differ: an HTTP/2-only server to clients that offer no ALPN, as alpn-mismatch declares each client', async () => {
    const endpoint = await startEndpoint('alpn-mismatch');
    try {
      const args = ['diagnose', `127.0.0.1:${endpoint.port}`, '--servername', 'localhost', '--ca', join(dir, 'bin.ca.pem'), '--json'];
      const run = await cli(args);
      const report = JSON.parse(run.out) as Report;
      const cases = resolveScenario(endpoint.scenario, RUNNING).cases;
      // The cases that take ALPNProtocols away; diagnose negotiates, which is TLS 1.3 here.
      const noAlpn = (probe: ProbeName) =>
        cases.find((c) => !c.fixed && c.client.includes('ALPNProtocols') && c.outcomes['TLSv1.3']?.[probe])?.outcomes['TLSv1.3']?.[probe];
      const declared = (['tls.connect', 'https.request', 'fetch'] as const).map((probe) => declaredVerdict(noAlpn(probe)));
      expect(Object.values(report.clients).map(verdict)).to.deep.equal(declared);
      expect({ agree: report.agree, code: run.code }).to.deep.equal({
        agree: new Set(declared).size === 1,
        code: declared.every((v) => v === 'ok') ? 0 : 1,
      });
      expect(report.clients['tls.connect'].status).to.equal(403);
    } finally {
      await endpoint.close();
    }
  });

  describe('a server built outside the catalog: one certificate, for another host name, signed by a root given with --ca', () => {
    // Built with the certificate builder and served by a bare tls.createServer: nothing of the catalog's endpoints.
    let root: Credential | undefined;
    const serve = async (leaf: Credential): Promise<Report & { code: number }> => {
      const server = createTlsServer({ cert: leaf.certPem, key: leaf.keyPem }, (socket) => socket.end('HTTP/1.1 200 OK\r\n\r\n'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const ca = join(dir, 'outside.ca.pem');
        await writeFile(ca, (root as Credential).certPem);
        const { port } = server.address() as { port: number };
        const run = await cli(['diagnose', `https://localhost:${port}/`, '--ca', ca, '--json']);
        return { ...(JSON.parse(run.out) as Report), code: run.code };
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    };
    before(async () => {
      root = await certificate('Outside Root').ca().build();
    });

    it('SANs DNS:other.example only: names wrong-host, nothing else as possible, exit code 1', async () => {
      const leaf = await certificate('other.example')
        .serverAuth()
        .dns('other.example')
        .issuedBy(root as Credential)
        .build();
      const report = await serve(leaf);
      expect({
        code: report.code,
        tier: report.match.tier,
        entries: report.match.entries.map((e) => e.id),
        also: report.match.alsoPossible,
      }).to.deep.equal({
        code: 1,
        tier: 'code',
        entries: ['wrong-host'],
        also: [],
      });
    });

    it('SANs DNS:other.example and IP:127.0.0.1 (as the default certificate of wrong-servername has): names wrong-host first, wrong-servername as also possible, with why and its own score', async () => {
      const leaf = await certificate('other.example')
        .serverAuth()
        .dns('other.example')
        .ip('127.0.0.1')
        .issuedBy(root as Credential)
        .build();
      const report = await serve(leaf);
      expect({ entries: report.match.entries.map((e) => e.id), also: report.match.alsoPossible.map((e) => [e.id, e.why]) }).to.deep.equal({
        entries: ['wrong-host'],
        also: [['wrong-servername', SNI_UNSEEN]],
      });
      // It is named second although its default certificate looks at least as much like this one: that is no evidence.
      expect(report.match.alsoPossible[0]?.score.same).to.be.at.least(report.match.score.same);
    });
  });

  it('the bin, in a process of its own with its own PKI, names wrong-host and prints its cause, fix and chain', async () => {
    const run = (await binRun) as CliRun;
    const wrong = SCENARIOS.find((s) => s.id === 'wrong-host') as Scenario;
    expect({ code: run.code, err: run.err }).to.deep.equal({ code: 1, err: '' });
    const lines = run.out.split('\n');
    const altnames =
      "ERR_TLS_CERT_ALTNAME_INVALID: Hostname/IP does not match certificate's altnames: Host: localhost. is not in the cert's altnames: DNS:wrong.host.example";
    expect(lines.slice(0, 9)).to.deep.equal([
      `127.0.0.1:${wrongHost?.port} (servername localhost) — Node ${process.version}, OpenSSL ${process.versions.openssl}`,
      `tls.connect: ${altnames} (handshake)`,
      `https.request: ${altnames} (handshake)`,
      `fetch: TypeError fetch failed ← ${altnames} (request)`,
      'The three clients agree.',
      '',
      `Matches wrong-host (hostname) — ${wrong.title}`,
      '  A strict client must reject this, and Node did.',
      `  Cause: ${wrong.cause}`,
    ]);
    expect(run.out).to.include(`  Fix:   ${wrong.fix}\n`).and.include('Certificate chain as the server sent it, 2 certificates:\n');
    expect(run.out).to.match(
      / {2}\[0\] subject {4}CN=wrong\.host\.example, O=tls-harness\n {6}issuer {5}CN=tls-harness Intermediate CA, O=tls-harness\n {6}validity {3}\S+ → \S+ \(valid\)\n {6}SANs {7}DNS:wrong\.host\.example\n {6}key {8}EC P-256; signature ECDSA with SHA-256; signed by the next certificate\n/,
    );
  });

  describe('bad input: one line on stderr, exit code 2, nothing left open', () => {
    let closedPort = 0;
    before(async () => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      closedPort = (server.address() as { port: number }).port;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const cases: Array<[string, () => string[], () => string]> = [
      ['an unreachable host', () => [`127.0.0.1:${closedPort}`], () => `tls-harness: cannot reach 127.0.0.1:${closedPort}: ECONNREFUSED\n`],
      [
        'an unreadable CA file',
        () => ['localhost:443', '--ca', '/nonexistent/ca.pem'],
        () => 'tls-harness: cannot read CA file /nonexistent/ca.pem: ENOENT\n',
      ],
      [
        'a CA file without a certificate',
        () => ['localhost:443', '--ca', 'package.json'],
        () => 'tls-harness: CA file package.json holds no PEM "CERTIFICATE" block\n',
      ],
      ['no target', () => [], () => 'tls-harness: diagnose takes one target: a URL (https://host:port/) or host:port\n'],
      ['an http:// URL', () => ['http://localhost:8080/'], () => 'tls-harness: diagnose speaks TLS: use an https:// URL, not http://\n'],
      ['--cert without --key', () => ['localhost:443', '--cert', 'package.json'], () => 'tls-harness: --cert and --key go together\n'],
    ];
    for (const [what, args, message] of cases) {
      it(`${what}: ${JSON.stringify(message().replace(/:0\b/g, ':PORT').trim())}`, async () => {
        const [resources, temps] = [activeResources(), harnessTempDirs()];
        expect(await cli(['diagnose', ...args()])).to.deep.equal({ code: 2, out: '', err: message() });
        await expectNothingLeft(resources, temps);
      });
    }
  });

  it('--help lists the client settings it takes', async () => {
    const { code, out } = await cli(['diagnose', '--help']);
    expect(code).to.equal(0);
    expect(out).to.match(/^Usage: tls-harness diagnose <url \| host:port> \[--ca FILE\] \[--servername NAME\]/);
    for (const flag of [
      '--cert FILE',
      '--crl FILE',
      '--min-version V',
      '--max-version V',
      '--ciphers LIST',
      '--alpn LIST',
      '--min-dh-size BITS',
    ])
      expect(out).to.include(flag);
  });
});
