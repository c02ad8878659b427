// Run by scripts/test-consumer.ts inside a temp project that installed the packed tarball, with plain `node` of each
// supported line: what a user who writes `import … from 'tls-harness'` gets. Prints one line per check; any failed
// assertion throws and exits non-zero.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { EXTERNAL_PROBES, SCENARIOS, containerBackend, externalClient, findScenario, scenarioMaterial, startEndpoint } from 'tls-harness';
import { certificate } from 'tls-harness/certs';
import { RUNNING, resolveScenario } from 'tls-harness/catalog';

const requireTools = process.env.TLS_HARNESS_REQUIRE_TOOLS === '1';

// The catalog's first failure through Node's three clients, exactly as the specs assert it.
const expired = await startEndpoint('expired-leaf');
try {
  const connect = await expired.probe('tls.connect');
  assert.deepEqual(
    { ok: connect.ok, phase: connect.phase, code: connect.code, message: connect.message },
    { ok: false, phase: 'handshake', code: 'CERT_HAS_EXPIRED', message: 'certificate has expired' },
  );
  const request = await expired.probe('https.request');
  assert.deepEqual([request.code, request.message], ['CERT_HAS_EXPIRED', 'certificate has expired']);
  const fetched = await expired.probe('fetch');
  assert.deepEqual(
    [fetched.errorName, fetched.message, fetched.cause?.code, fetched.cause?.message],
    ['TypeError', 'fetch failed', 'CERT_HAS_EXPIRED', 'certificate has expired'],
  );
  console.log('expired-leaf: tls.connect, https.request and fetch fail with CERT_HAS_EXPIRED');

  // The Python probe runs python-probe.py from the installed package.
  const python = EXTERNAL_PROBES['python ssl'];
  const status = python.status();
  if (status.available) {
    const [outcome] = await python.probeMany([externalClient(expired)]);
    assert.equal(outcome?.errorName, 'SSLCertVerificationError');
    assert.equal(outcome?.verify, '10 (certificate has expired)');
    console.log(`expired-leaf: python3 (${status.version}) fails with verify error 10 (certificate has expired)`);
  } else if (requireTools) {
    assert.fail(status.reason);
  } else {
    console.log(`SKIP the Python probe: ${status.reason}`);
  }
} finally {
  await expired.close();
}

// The fix, applied: the same scenario with a valid leaf verifies.
const fixed = await startEndpoint('expired-leaf', { fixed: true });
try {
  const connect = await fixed.probe('tls.connect');
  assert.equal(connect.ok, true, connect.message);
  console.log('expired-leaf, fixed: tls.connect verifies');
} finally {
  await fixed.close();
}

// A probe with an environment runs in a child Node process started from the installed package's built JavaScript.
const privateCa = await startEndpoint('private-ca-default-store');
try {
  const material = await scenarioMaterial(findScenario('private-ca-default-store'));
  const trustedRoot = (material.fixed?.client?.ca ?? []).join('');
  assert.match(trustedRoot, /^-----BEGIN CERTIFICATE-----/);
  const viaEnvironment = await privateCa.probe('https.request', { ca: undefined, env: { NODE_EXTRA_CA_CERTS: { pem: trustedRoot } } });
  assert.equal(viaEnvironment.ok, true, viaEnvironment.message);
  console.log('private-ca-default-store: NODE_EXTRA_CA_CERTS in a child process verifies');
} finally {
  await privateCa.close();
}

// The certificate builder and the catalog, from their subpaths.
const leaf = await certificate('consumer.test').dns('consumer.test').serverAuth().validDays(-1, 30).build();
assert.equal(new X509Certificate(leaf.certPem).subject, 'CN=consumer.test\nO=tls-harness');
const resolved = resolveScenario(
  SCENARIOS.find((s) => s.id === 'expired-leaf'),
  RUNNING,
);
assert.equal(resolved.cases[0]?.outcomes['TLSv1.3']?.['tls.connect']?.code, 'CERT_HAS_EXPIRED');
console.log(`tls-harness/certs and tls-harness/catalog: a certificate built, ${SCENARIOS.length} scenarios resolved`);

// testcontainers is an optional peer dependency, not installed here: the container backend says how to get it.
assert.equal(await containerBackend.unavailable(), 'testcontainers is not installed: npm i -D testcontainers@12.0.1');
console.log('the container backend, without testcontainers: says to npm i -D testcontainers@12.0.1');
