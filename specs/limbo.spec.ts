import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { certificate, pki as recipes, revocationList, type Credential } from '../certs/index.ts';
import { resolveScenario } from '../harness/catalog/evaluate.ts';
import { RUNNING, SCENARIOS, describeMessage, scenarioMaterial, type NodeResult, type Scenario } from '../harness/index.ts';
import { exportLimbo, notPathValidation } from '../harness/limbo/export.ts';
import { limboTestcase, type LimboFile, type LimboTestcase, type TestcaseResult } from '../harness/limbo/model.ts';
import { runLimbo } from '../harness/limbo/runner.ts';
import { findExecutable } from '../harness/servers/child.ts';
import { cli } from './support/cli.ts';
import { itNeeds } from './support/runner.ts';

/**
 * `tls-harness limbo` and `catalog --limbo`: the catalog's path-validation scenarios exported as x509-limbo cases and
 * run back through the limbo runner, small hand-made cases for each way a case is run or skipped, and the CLI.
 * Everything is minted here at run time; nothing is read from outside the repository.
 */

const FAKETIME = findExecutable('faketime');
const NO_FAKETIME = FAKETIME === undefined ? 'faketime (libfaketime) is not installed' : undefined;
const HARNESS = `node-${process.version}-openssl-${process.versions.openssl}`;
const DAY_MS = 24 * 60 * 60 * 1000;

// ---- The catalog, round trip --------------------------------------------------------------------------------------

/**
 * What the scenario declares tls.connect observes against its endpoint as declared, with the scenario's own client
 * (the first case that is not fixed and adds no client options), over the version both ends negotiate (TLS 1.3).
 */
function declaredOutcome(id: string): NodeResult {
  const scenario = SCENARIOS.find((s) => s.id === id);
  if (!scenario) throw new Error(`no scenario ${id}`);
  const asDeclared = resolveScenario(scenario, RUNNING).cases.find((c) => !c.fixed && c.client.length === 0);
  const outcome = (asDeclared?.outcomes.negotiated ?? asDeclared?.outcomes['TLSv1.3'])?.['tls.connect'];
  if (!outcome) throw new Error(`${id} declares no tls.connect outcome for the scenario as declared`);
  return outcome;
}

const exported = await exportLimbo(SCENARIOS);
const scenarioIdOf = (testcase: LimboTestcase) => testcase.id.split('::').at(-1) as string;

describe('catalog --limbo and the limbo runner: the round trip', function () {
  this.timeout(60_000);
  let results = new Map<string, TestcaseResult>();
  before(async () => {
    const report = await runLimbo(exported.testcases, { faketime: FAKETIME });
    results = new Map(report.results.map((r) => [r.id, r]));
  });

  it(`catalog --limbo prints the export: version 1, ${exported.testcases.length} cases, each with the leaf's key and its trust anchors`, async () => {
    const { code, out } = await cli(['catalog', '--limbo']);
    expect(code).to.equal(0);
    const printed = JSON.parse(out) as LimboFile;
    expect(printed.version).to.equal(1);
    expect(printed.testcases.map((t) => t.id)).to.deep.equal(exported.testcases.map((t) => t.id));
    expect(printed.testcases.map((t) => t.expected_result)).to.deep.equal(exported.testcases.map((t) => t.expected_result));
    for (const testcase of printed.testcases) {
      expect(testcase.peer_certificate_key, testcase.id).to.match(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(testcase.trusted_certs.length, testcase.id).to.be.greaterThan(0);
    }
  });

  it('leaves out a scenario for what its declaration sets beyond a chain, trust, a name and CRLs, and keeps expired-leaf and revoked-leaf', async () => {
    const reasons = await Promise.all(
      ['alpn-mismatch', 'missing-client-cert', 'legacy-tls-server', 'certificate-pin-mismatch', 'node-tls-reject-unauthorized-0']
        .concat(['no-sni-default-cert', 'private-ca-default-store', 'key-certificate-mismatch', 'expired-leaf', 'revoked-leaf'])
        .map(async (id) => {
          const scenario = SCENARIOS.find((s) => s.id === id) as Scenario;
          return [id, notPathValidation(scenario, await scenarioMaterial(scenario)) ?? 'exported'];
        }),
    );
    expect(Object.fromEntries(reasons)).to.deep.equal({
      'alpn-mismatch': 'its server sets http2',
      'missing-client-cert': 'its server sets clientAuth',
      'legacy-tls-server': 'its server sets minVersion, maxVersion, ciphers',
      'certificate-pin-mismatch': 'its client sets checkServerIdentity',
      'node-tls-reject-unauthorized-0': 'its client sets env',
      'no-sni-default-cert': 'its server sets sni',
      'private-ca-default-store': "its client trusts Node's default store",
      'key-certificate-mismatch': 'its server does not start',
      'expired-leaf': 'exported',
      'revoked-leaf': 'exported',
    });
    const ids = exported.testcases.map(scenarioIdOf);
    expect(['expired-leaf', 'revoked-leaf'].every((id) => ids.includes(id))).to.equal(true);
    expect(ids.includes('alpn-mismatch')).to.equal(false);
  });

  for (const testcase of exported.testcases) {
    const scenario = SCENARIOS.find((s) => s.id === scenarioIdOf(testcase));
    const declared = declaredOutcome(scenarioIdOf(testcase));
    const verdict = scenario?.expect === 'accept' ? 'SUCCESS' : 'FAILURE';
    const actual = declared.kind === 'ok' ? 'SUCCESS' : 'FAILURE';
    const code = declared.kind === 'fails' ? declared.code : undefined;
    const message = declared.kind === 'fails' ? declared.message : undefined;
    const agreement =
      actual === verdict ? 'agrees with the verdict' : `disagrees with the verdict ${verdict}, as the scenario declares Node does`;
    const detail = code === undefined ? '' : ` with ${code}${message !== undefined ? `: ${describeMessage(message)}` : ''}`;
    it(`${testcase.id}: expected ${verdict}, runs to ${actual}${detail} — ${agreement}`, () => {
      expect(testcase.expected_result).to.equal(verdict);
      const result = results.get(testcase.id);
      expect(result?.actual_result).to.equal(actual);
      if (actual === 'SUCCESS') expect(result?.context).to.equal(null);
      if (code !== undefined) {
        const crlNote =
          code === 'UNABLE_TO_GET_CRL'
            ? ` (Node's crl option checks every certificate of the chain: it needs a CRL from each CA, and the case gives ${testcase.crls.length})`
            : '';
        if (typeof message === 'string') expect(result?.context).to.equal(`${code}: ${message}${crlNote}`);
        else if (message !== undefined && 'openssl' in message)
          expect(result?.context).to.match(new RegExp(`^${code}: error:[0-9A-F]{8}:SSL routines:[A-Za-z0-9_]+:${message.openssl}$`));
        else expect.fail(`${testcase.id}: a message the spec cannot compare: ${JSON.stringify(message)}`);
      }
    });
  }
});

// ---- Hand-made cases ---------------------------------------------------------------------------------------------

interface Pki {
  root: Credential;
  otherRoot: Credential;
  intermediate: Credential;
  dnsLeaf: Credential;
  ipLeaf: Credential;
  clientLeaf: Credential;
  futureLeaf: Credential;
  rootCrl: string;
  intermediateCrl: string;
  revokingCrl: string;
  revokingClientCrl: string;
}

async function mint(): Promise<Pki> {
  // The catalog's own root and intermediate (memoized recipes), and the root no catalog client trusts.
  const [root, otherRoot, intermediate] = await Promise.all([recipes.rootCa(), recipes.untrustedRootCa(), recipes.intermediateCa()]);
  const dnsLeaf = await certificate('example.test').serverAuth().dns('example.test').issuedBy(intermediate).build();
  const ipLeaf = await certificate('192.0.2.1').serverAuth().ip('192.0.2.1').issuedBy(intermediate).build();
  const clientLeaf = await certificate('limbo client').clientAuth().issuedBy(intermediate).build();
  const futureLeaf = await certificate('example.test').serverAuth().dns('example.test').validDays(10, 20).issuedBy(intermediate).build();
  return {
    root,
    otherRoot,
    intermediate,
    dnsLeaf,
    ipLeaf,
    clientLeaf,
    futureLeaf,
    rootCrl: await revocationList(root),
    intermediateCrl: await revocationList(intermediate),
    revokingCrl: await revocationList(intermediate, [dnsLeaf]),
    revokingClientCrl: await revocationList(intermediate, [clientLeaf]),
  };
}

const pki = await mint();

/** A SERVER case: `leaf` sent with the intermediate to a client that trusts the root and expects example.test. */
function limboCase(id: string, leaf: Credential, overrides: Partial<LimboTestcase> = {}): LimboTestcase {
  return limboTestcase({
    id,
    validation_kind: 'SERVER',
    trusted_certs: [pki.root.certPem],
    untrusted_intermediates: [pki.intermediate.certPem],
    peer_certificate: leaf.certPem,
    peer_certificate_key: leaf.keyPem,
    expected_result: 'SUCCESS',
    expected_peer_name: { kind: 'DNS', value: 'example.test' },
    ...overrides,
  });
}

const clientCase = (id: string, leaf: Credential, overrides: Partial<LimboTestcase> = {}) =>
  limboCase(id, leaf, { validation_kind: 'CLIENT', expected_peer_name: null, ...overrides });

/** Each hand-made case and the exact result it must get. */
const HANDMADE: { testcase: LimboTestcase; result: Omit<TestcaseResult, 'id'>; title: string }[] = [
  {
    title: 'SERVER, DNS name in the SAN, sent as servername: SUCCESS',
    testcase: limboCase('dns-match', pki.dnsLeaf),
    result: { actual_result: 'SUCCESS', context: null },
  },
  {
    title: "SERVER, another DNS name: FAILURE with Node's ERR_TLS_CERT_ALTNAME_INVALID and its message",
    testcase: limboCase('dns-mismatch', pki.dnsLeaf, { expected_peer_name: { kind: 'DNS', value: 'other.test' } }),
    result: {
      actual_result: 'FAILURE',
      context:
        "ERR_TLS_CERT_ALTNAME_INVALID: Hostname/IP does not match certificate's altnames: Host: other.test. is not in the cert's altnames: DNS:example.test",
    },
  },
  {
    title: 'SERVER, the IP address in the SAN (not the 127.0.0.1 connected to), checked with tls.checkServerIdentity: SUCCESS',
    testcase: limboCase('ip-match', pki.ipLeaf, { expected_peer_name: { kind: 'IP', value: '192.0.2.1' } }),
    result: { actual_result: 'SUCCESS', context: null },
  },
  {
    title: 'SERVER, another IP address: FAILURE with ERR_TLS_CERT_ALTNAME_INVALID naming the IP',
    testcase: limboCase('ip-mismatch', pki.ipLeaf, { expected_peer_name: { kind: 'IP', value: '192.0.2.2' } }),
    result: {
      actual_result: 'FAILURE',
      context:
        "ERR_TLS_CERT_ALTNAME_INVALID: Hostname/IP does not match certificate's altnames: IP: 192.0.2.2 is not in the cert's list: 192.0.2.1",
    },
  },
  {
    title: 'SERVER, no expected name: no name check, the chain alone decides: SUCCESS',
    testcase: limboCase('no-name', pki.ipLeaf, { expected_peer_name: null }),
    result: { actual_result: 'SUCCESS', context: null },
  },
  {
    title: 'SERVER, trusting another root: FAILURE with UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    testcase: limboCase('untrusted', pki.dnsLeaf, { trusted_certs: [pki.otherRoot.certPem], expected_result: 'FAILURE' }),
    result: { actual_result: 'FAILURE', context: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY: unable to get local issuer certificate' },
  },
  {
    title: 'SERVER, CRLs from both CAs, the leaf revoked: FAILURE with CERT_REVOKED',
    testcase: limboCase('crl-revoked', pki.dnsLeaf, { crls: [pki.rootCrl, pki.revokingCrl], expected_result: 'FAILURE' }),
    result: { actual_result: 'FAILURE', context: 'CERT_REVOKED: certificate revoked' },
  },
  {
    title: 'SERVER, CRLs from both CAs, nothing revoked: SUCCESS',
    testcase: limboCase('crl-clean', pki.dnsLeaf, { crls: [pki.rootCrl, pki.intermediateCrl] }),
    result: { actual_result: 'SUCCESS', context: null },
  },
  {
    title:
      "SERVER, a CRL from the issuer only: FAILURE with UNABLE_TO_GET_CRL, and the context says Node's crl option needs one from each CA",
    testcase: limboCase('crl-issuer-only', pki.dnsLeaf, { crls: [pki.intermediateCrl] }),
    result: {
      actual_result: 'FAILURE',
      context:
        "UNABLE_TO_GET_CRL: unable to get certificate CRL (Node's crl option checks every certificate of the chain: it needs a CRL from each CA, and the case gives 1)",
    },
  },
  {
    title: "CLIENT, a clientAuth certificate the server trusts: SUCCESS (the server's socket.authorized)",
    testcase: clientCase('client-ok', pki.clientLeaf),
    result: { actual_result: 'SUCCESS', context: null },
  },
  {
    title: "CLIENT, a serverAuth-only certificate: FAILURE with the server's authorizationError INVALID_PURPOSE",
    testcase: clientCase('client-server-eku', pki.dnsLeaf, { expected_result: 'FAILURE' }),
    result: { actual_result: 'FAILURE', context: "INVALID_PURPOSE (the server's authorizationError; Node sets no message there)" },
  },
  {
    title: "CLIENT, revoked by the server's CRLs: FAILURE with the server's authorizationError CERT_REVOKED",
    testcase: clientCase('client-revoked', pki.clientLeaf, { crls: [pki.rootCrl, pki.revokingClientCrl], expected_result: 'FAILURE' }),
    result: { actual_result: 'FAILURE', context: "CERT_REVOKED (the server's authorizationError; Node sets no message there)" },
  },
  {
    title: 'no peer_certificate_key: SKIPPED, no-peer-key',
    testcase: limboCase('skip-no-key', pki.dnsLeaf, { peer_certificate_key: null }),
    result: {
      actual_result: 'SKIPPED',
      context:
        'no-peer-key: the case has no peer_certificate_key: a TLS peer must sign the handshake with the key of the certificate it presents',
    },
  },
  {
    title: 'max_chain_depth: SKIPPED, max-chain-depth',
    testcase: limboCase('skip-depth', pki.dnsLeaf, { max_chain_depth: 1 }),
    result: {
      actual_result: 'SKIPPED',
      context:
        "max-chain-depth: max_chain_depth 1: Node has no option to limit the verification depth (OpenSSL's X509_VERIFY_PARAM depth is not exposed; its default, 100, applies)",
    },
  },
  {
    title: 'key_usage: SKIPPED, key-usage',
    testcase: limboCase('skip-ku', pki.dnsLeaf, { key_usage: ['digitalSignature'] }),
    result: {
      actual_result: 'SKIPPED',
      context:
        'key-usage: key_usage digitalSignature: Node cannot require key usages of the peer certificate (OpenSSL checks keyUsage only as the TLS purpose implies)',
    },
  },
  {
    title: 'SERVER with extended_key_usage clientAuth: SKIPPED, extended-key-usage',
    testcase: limboCase('skip-eku', pki.dnsLeaf, { extended_key_usage: ['serverAuth', 'clientAuth'] }),
    result: {
      actual_result: 'SKIPPED',
      context:
        'extended-key-usage: extended_key_usage clientAuth: a Node client checks a server certificate for serverAuth only (OpenSSL purpose sslserver), and has no option for another',
    },
  },
  {
    title: 'signature_algorithms: SKIPPED, signature-algorithms',
    testcase: limboCase('skip-sigalgs', pki.dnsLeaf, { signature_algorithms: ['ECDSA_WITH_SHA256'] }),
    result: {
      actual_result: 'SKIPPED',
      context:
        'signature-algorithms: signature_algorithms ECDSA_WITH_SHA256: Node cannot restrict the signature algorithms of the certificates it verifies (sigalgs constrain the handshake, not the chain)',
    },
  },
  {
    title: 'an RFC822 peer name: SKIPPED, rfc822-peer-name',
    testcase: limboCase('skip-email', pki.dnsLeaf, { expected_peer_name: { kind: 'RFC822', value: 'a@example.test' } }),
    result: {
      actual_result: 'SKIPPED',
      context:
        'rfc822-peer-name: peer name a@example.test is an email address: Node checks DNS names and IP addresses only (tls.checkServerIdentity)',
    },
  },
  {
    title: 'CLIENT with expected_peer_names: SKIPPED, client-peer-names',
    testcase: clientCase('skip-client-names', pki.clientLeaf, { expected_peer_names: [{ kind: 'DNS', value: 'example.test' }] }),
    result: {
      actual_result: 'SKIPPED',
      context: 'client-peer-names: expected_peer_names DNS:example.test: a Node server checks no name of a client certificate',
    },
  },
  {
    title: "a key that is not the certificate's: SKIPPED, unpresentable, with the server's error",
    testcase: limboCase('skip-wrong-key', pki.dnsLeaf, { peer_certificate_key: pki.ipLeaf.keyPem }),
    result: {
      actual_result: 'SKIPPED',
      context:
        'unpresentable: a Node server cannot present this certificate and key (ERR_OSSL_X509_KEY_VALUES_MISMATCH: error:05800074:x509 certificate routines::key values mismatch): no handshake, nothing measured',
    },
  },
];

/** The future leaf (valid from 10 to 20 days ahead) at a time `days` from now, in whole seconds. */
function futureCase(id: string, days: number, expected: 'SUCCESS' | 'FAILURE'): LimboTestcase {
  const at = new Date(Math.floor((Date.now() + days * DAY_MS) / 1000) * 1000).toISOString().replace('.000Z', '+00:00');
  return limboCase(id, pki.futureLeaf, { validation_time: at, expected_result: expected });
}
const AT_15_DAYS = futureCase('time-inside', 15, 'SUCCESS');
const AT_25_DAYS = futureCase('time-after', 25, 'FAILURE');
const AT_NOW_PLUS_1 = futureCase('time-before', 1, 'FAILURE');

describe('the limbo runner on hand-made cases', function () {
  this.timeout(30_000);
  let results = new Map<string, TestcaseResult>();
  before(async () => {
    const report = await runLimbo(
      HANDMADE.map((h) => h.testcase),
      { faketime: FAKETIME },
    );
    results = new Map(report.results.map((r) => [r.id, r]));
  });

  for (const { title, testcase, result } of HANDMADE) {
    it(title, () => {
      expect(results.get(testcase.id)).to.deep.equal({ id: testcase.id, ...result });
    });
  }

  it('a validation_time without faketime: SKIPPED, validation-time, naming the time', async () => {
    const report = await runLimbo([AT_15_DAYS], { faketime: undefined });
    expect(report.results).to.deep.equal([
      {
        id: AT_15_DAYS.id,
        actual_result: 'SKIPPED',
        context: `validation-time: validation_time ${AT_15_DAYS.validation_time}: faketime (libfaketime) is not installed, and Node has no other way to verify at another time`,
      },
    ]);
  });

  itNeeds(
    NO_FAKETIME,
    'validation_time under faketime: a leaf valid from day 10 to day 20 is accepted at day 15, expired at day 25, not yet valid at day 1 — three clocks, three child processes',
    async () => {
      const report = await runLimbo([AT_15_DAYS, AT_25_DAYS, AT_NOW_PLUS_1], { faketime: FAKETIME });
      expect(report.results).to.deep.equal([
        { id: 'time-inside', actual_result: 'SUCCESS', context: null },
        { id: 'time-after', actual_result: 'FAILURE', context: 'CERT_HAS_EXPIRED: certificate has expired' },
        { id: 'time-before', actual_result: 'FAILURE', context: 'CERT_NOT_YET_VALID: certificate is not yet valid' },
      ]);
      expect(report.faketime).to.include({ cases: 3, groups: 3 });
    },
  );
});

describe('the limbo runner with a helper process', function () {
  this.timeout(30_000);
  // 240 cases: enough that the helper (which takes ~0.4 s to start) is up while this process still has cases queued.
  const bulk = Array.from({ length: 240 }, (_, i) =>
    i % 2 === 0
      ? limboCase(`bulk-${i}`, pki.dnsLeaf)
      : limboCase(`bulk-${i}`, pki.dnsLeaf, { expected_peer_name: { kind: 'DNS', value: 'other.test' }, expected_result: 'FAILURE' }),
  );
  it('240 cases from one queue over this process and one helper: every result as in-process, in the order given, and the helper ran some', async () => {
    const report = await runLimbo(bulk, { faketime: FAKETIME, helpers: 1 });
    expect(report.results).to.deep.equal(
      bulk.map((t, i) => (i % 2 === 0 ? { id: t.id, actual_result: 'SUCCESS', context: null } : { id: t.id, ...HANDMADE[1]?.result })),
    );
    expect(report.now.helpers).to.equal(1);
    expect(report.now.byHelpers).to.be.greaterThan(0);
  });
});

// ---- The CLI ---------------------------------------------------------------------------------------------------------

describe('tls-harness limbo (CLI)', function () {
  this.timeout(30_000);
  let dir = '';
  let suite = '';
  const cases = [HANDMADE[0], HANDMADE[1], HANDMADE[12]].map((h) => h?.testcase as LimboTestcase);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tls-harness-limbo-'));
    suite = join(dir, 'limbo.json');
    await writeFile(suite, JSON.stringify({ version: 1, testcases: cases }));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`--json prints { version: 1, harness: "${HARNESS}", results } with one { id, actual_result, context } per case, in the file's order; exit 0`, async () => {
    const { code, out, err } = await cli(['limbo', suite, '--json']);
    expect(err).to.equal('');
    expect(code).to.equal(0);
    expect(JSON.parse(out)).to.deep.equal({
      version: 1,
      harness: HARNESS,
      results: [
        { id: 'dns-match', actual_result: 'SUCCESS', context: null },
        { id: 'dns-mismatch', ...HANDMADE[1]?.result },
        { id: 'skip-no-key', ...HANDMADE[12]?.result },
      ],
    });
  });

  it('--only runs the named cases; --out writes the same JSON to the file', async () => {
    const out = join(dir, 'results.json');
    const run = await cli(['limbo', suite, '--only', 'skip-no-key,dns-match', '--out', out, '--json']);
    expect(run.code).to.equal(0);
    const written = JSON.parse(await readFile(out, 'utf8')) as unknown;
    expect(written).to.deep.equal(JSON.parse(run.out));
    expect(written).to.deep.equal({
      version: 1,
      harness: HARNESS,
      results: [
        { id: 'dns-match', actual_result: 'SUCCESS', context: null },
        { id: 'skip-no-key', ...HANDMADE[12]?.result },
      ],
    });
  });

  it('without --json: one row per case (agree / FALSE ACCEPT / FALSE REJECT / skipped), then the summary line', async () => {
    const { code, out } = await cli(['limbo', suite]);
    expect(code).to.equal(0);
    const lines = out.split('\n');
    expect(lines[0]).to.match(/^ +ID +EXPECTED +ACTUAL +CONTEXT$/);
    expect(lines[1]).to.match(/^agree +dns-match +SUCCESS +SUCCESS +$/);
    expect(lines[2]).to.match(/^FALSE REJECT +dns-mismatch +SUCCESS +FAILURE +ERR_TLS_CERT_ALTNAME_INVALID: /);
    expect(lines[3]).to.match(/^skipped +skip-no-key +SUCCESS +SKIPPED +no-peer-key: /);
    expect(lines[5]).to.equal(
      `${HARNESS}: 3 cases — agreed 1, accepted but must fail 0, rejected but must pass 1, skipped 1 (no-peer-key 1)`,
    );
    expect(lines[6]).to.match(
      /^2 handshakes at the current time in \d+\.\d\d s: \d+ cases\/s \(--jobs 4; 0 of them in \d helper process\(es\)\)$/,
    );
  });

  const usage: [string, string[], RegExp][] = [
    ['no file', [], /^tls-harness: give exactly one limbo file: tls-harness limbo <limbo.json> \[options\]\n$/],
    ['a file that does not exist', ['/nonexistent/limbo.json'], /^tls-harness: cannot read \/nonexistent\/limbo.json: ENOENT\n$/],
    ['a file that is not JSON', ['<not-json>'], /^tls-harness: .*not-json\.json: not JSON: /],
    [
      'a JSON file that is not a limbo suite',
      ['<not-limbo>'],
      /^tls-harness: .*not-limbo\.json: not a limbo file: "testcases" is not an array\n$/,
    ],
    [
      'a case without trusted_certs (the client would fall back to the default roots)',
      ['<no-trust>'],
      /^tls-harness: .*no-trust\.json: test case a: "trusted_certs" is missing \(a list of PEM strings, the trust anchors\)\n$/,
    ],
    ['an unknown --only id', ['<suite>', '--only', 'nope'], /^tls-harness: no such case in the file: nope\n$/],
    ['--jobs 0', ['<suite>', '--jobs', '0'], /^tls-harness: --jobs must be a positive integer, not "0"\n$/],
  ];
  for (const [what, args, message] of usage) {
    it(`bad input — ${what}: one line on stderr, exit code 2`, async () => {
      await writeFile(join(dir, 'not-json.json'), '{');
      await writeFile(join(dir, 'not-limbo.json'), '{"version": 1}');
      const noTrust = { id: 'a', validation_kind: 'SERVER', expected_result: 'SUCCESS', peer_certificate: '' };
      await writeFile(join(dir, 'no-trust.json'), JSON.stringify({ version: 1, testcases: [noTrust] }));
      const argv = args.map((arg) =>
        arg === '<suite>'
          ? suite
          : arg === '<not-json>'
            ? join(dir, 'not-json.json')
            : arg === '<not-limbo>'
              ? join(dir, 'not-limbo.json')
              : arg === '<no-trust>'
                ? join(dir, 'no-trust.json')
                : arg,
      );
      const { code, out, err } = await cli(['limbo', ...argv]);
      expect(out).to.equal('');
      expect(err).to.match(message);
      expect(code).to.equal(2);
    });
  }
});
