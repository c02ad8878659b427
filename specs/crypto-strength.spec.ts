import { getDiffieHellman } from 'node:crypto';
import * as tls from 'node:tls';
import { expect } from 'chai';
import { modpPrime } from '../certs/index.ts';
import { PROBE_NAMES, findScenario, scenarioMaterial, type ClientOptions } from '../harness/index.ts';
import { ALERT_PREFIX, DEFAULT_SECURITY_LEVEL, TLS_VERSIONS, only, opensslAtLeast } from './support/runtime.ts';
import { useEndpoint } from './support/endpoints.ts';
import { HANDSHAKE_FAILURE, alertInHandshake } from './support/refusals.ts';
import { itOnServers } from './support/backend.ts';
import { itFails, itFailsForEveryProbe, itSucceedsForEveryProbe, opensslError } from './support/expectations.ts';

/** A client that refuses what OpenSSL rates below 112 bits of security (RSA < 2048, DH < 2048, SHA-1). */
const STRICT_CLIENT = { ciphers: 'DEFAULT@SECLEVEL=2' };

/** A client that accepts 80 bits (RSA-1024, DH-1024) on every Node, whatever the build's default level. */
const LEVEL_1_CLIENT = { ciphers: 'DEFAULT@SECLEVEL=1' };

describe('crypto strength', () => {
  describe('sha1-signed-leaf: the server certificate is signed with SHA-1', () => {
    // What you see: UNSPECIFIED 'CA signature digest algorithm too weak' — Node has no code for this OpenSSL error,
    // so match on the message. "CA" because the weak digest is the one the CA signed the leaf with.
    // Why: OpenSSL 3 rates SHA-1 signatures below security level 1, the lowest default (SHA-1 collisions are
    // practical), and checks every signature in the chain except the trust anchor's self-signature.
    // Fix: reissue the certificate with a SHA-256 signature.
    const broken = useEndpoint('sha1-signed-leaf');
    const fixed = useEndpoint('sha1-signed-leaf', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(
          broken,
          { code: 'UNSPECIFIED', message: 'CA signature digest algorithm too weak', phase: 'handshake' },
          { version },
        );
        describe('fix: the certificate reissued with SHA-256', () => itSucceedsForEveryProbe(fixed, { version }));
      });
    }
    // The scenario's server runs at SECLEVEL=0. At the default level, whether a Node server even loads the
    // certificate depends on the OpenSSL it ships: observed with OpenSSL 3.0.19 (Node 20) the server refuses to
    // start ("ca md too weak", the error most people meet first); with OpenSSL 3.5.9 (Node 22+) it loads, and only
    // the clients refuse.
    if (opensslAtLeast(3, 5)) {
      it('a server at the default security level loads it (OpenSSL ≥ 3.5)', async () => {
        const [leaf, intermediate] = await servedChain('sha1-signed-leaf');
        expect(tls.createSecureContext({ key: leaf.keyPem, cert: leaf.certPem + intermediate.certPem })).to.be.an('object');
      });
    } else {
      it("a server at the default security level refuses to load it: ERR_SSL_CA_MD_TOO_WEAK 'ca md too weak'", async () => {
        const [leaf, intermediate] = await servedChain('sha1-signed-leaf');
        const error = thrownBy(() => tls.createSecureContext({ key: leaf.keyPem, cert: leaf.certPem + intermediate.certPem }));
        expect(error).to.include({ code: 'ERR_SSL_CA_MD_TOO_WEAK', message: 'error:0A00018E:SSL routines::ca md too weak' });
      });
    }
  });

  describe('sha1-signed-intermediate: the intermediate CA certificate is signed with SHA-1', () => {
    // What you see: UNSPECIFIED 'CA signature digest algorithm too weak', as for a SHA-1 leaf.
    // Why: the leaf is SHA-256, but the root signed the intermediate with SHA-1; every signature below the trust
    // anchor is held to the security level. (A SHA-1 self-signature on a trusted root is not: the root is trusted
    // for its key, and its self-signature is never checked.)
    // Fix: serve the SHA-256 reissue of the intermediate.
    const broken = useEndpoint('sha1-signed-intermediate');
    const fixed = useEndpoint('sha1-signed-intermediate', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(
          broken,
          { code: 'UNSPECIFIED', message: 'CA signature digest algorithm too weak', phase: 'handshake' },
          { version },
        );
        describe('fix: a SHA-256 signed intermediate', () => itSucceedsForEveryProbe(fixed, { version }));
      });
    }
  });

  describe('rsa-512-leaf: the server certificate has a 512-bit RSA key', () => {
    // What you see: TLS 1.2 — UNSPECIFIED 'EE certificate key too weak' (no Node code; match on the message).
    // TLS 1.3 — the handshake-failure alert (EPROTO from https): the server fails before sending its certificate.
    // Why: OpenSSL refuses RSA keys under 1024 bits at security level 1, so the server must run at SECLEVEL=0 to
    // serve one at all (see below). Over TLS 1.2 it signs the key exchange with RSA PKCS#1 and the client refuses
    // the key while checking the chain. TLS 1.3 allows only RSA-PSS, which with SHA-256 needs a key of at least
    // 528 bits: the server has no signature algorithm it can use ("no suitable signature algorithm") and aborts.
    // Fix: a new key — EC P-256, or RSA ≥ 2048 — and a certificate reissued for it.
    const broken = useEndpoint('rsa-512-leaf');
    const fixed = useEndpoint('rsa-512-leaf', { fixed: true });

    describe('over TLSv1.3', () => {
      // The server's handshake_failure alert; https.request reports it as its request write's EPROTO.
      for (const probe of PROBE_NAMES) itFails(broken, probe, alertInHandshake(probe, HANDSHAKE_FAILURE), { version: 'TLSv1.3' });
      it("the server's view: tlsClientError ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM", async () => {
        const outcome = await broken().probe('tls.connect', only('TLSv1.3'));
        const event = await broken().serverView(outcome);
        expect(event).to.deep.include({ kind: 'tls-client-error', code: 'ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM' });
        expect(event.kind === 'tls-client-error' && event.message).to.match(opensslError('no suitable signature algorithm'));
      });
    });

    describe('over TLSv1.2', () => {
      itFailsForEveryProbe(broken, { code: 'UNSPECIFIED', message: 'EE certificate key too weak', phase: 'handshake' }, { version: 'TLSv1.2' });
    });

    it("a server at the default security level refuses to load it: ERR_SSL_EE_KEY_TOO_SMALL 'ee key too small'", async () => {
      const [leaf, intermediate] = await servedChain('rsa-512-leaf');
      const error = thrownBy(() => tls.createSecureContext({ key: leaf.keyPem, cert: leaf.certPem + intermediate.certPem }));
      expect(error).to.include({ code: 'ERR_SSL_EE_KEY_TOO_SMALL', message: 'error:0A00018F:SSL routines::ee key too small' });
    });

    for (const version of TLS_VERSIONS) {
      describe(`fix over ${version}: an EC P-256 key`, () => itSucceedsForEveryProbe(fixed, { version }));
    }
  });

  describe('rsa-1024-leaf: the server certificate has a 1024-bit RSA key (Node 20 and 22 accept it, Node 24+ refuse it)', () => {
    // What you see: on Node 20 and 22, nothing — the default client connects. On Node 24+, UNSPECIFIED 'EE certificate
    // key too weak' (no Node code; match on the message), from every client, during the handshake.
    // Why: RSA-1024 is about 80 bits of security: exactly the floor of OpenSSL security level 1, below level 2 (112
    // bits). The level a Node client runs at by default is the deciding fact, and it differs by build although Node 22
    // and 24 ship the same OpenSSL 3.5.9: level 1 on Node 20 (OpenSSL 3.0's default) and Node 22 (which pinned it to 1
    // when it moved to OpenSSL 3.5), level 2 on Node 24.5+ (OpenSSL's own default since 3.2). See
    // DEFAULT_SECURITY_LEVEL in support/runtime.ts. The server sets SECLEVEL=1 to serve the key at all: at level 2 a
    // Node server refuses to load it (asserted below). Public CAs stopped issuing such keys in 2013.
    // A client that must refuse them on every Node sets its level: `ciphers: 'DEFAULT@SECLEVEL=2'`.
    // Fix: a new key (EC P-256, or RSA ≥ 2048) — accepted by the strict client too.
    const weak = useEndpoint('rsa-1024-leaf');
    const fixed = useEndpoint('rsa-1024-leaf', { fixed: true });
    const keyTooWeak = { code: 'UNSPECIFIED', message: 'EE certificate key too weak', phase: 'handshake' } as const;
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        // Node's default client: accepts at level 1 (Node 20, 22), refuses at level 2 (Node 24+).
        if (DEFAULT_SECURITY_LEVEL === 1) {
          describe("Node's default client (security level 1: Node 20, 22) accepts it", () => itSucceedsForEveryProbe(weak, { version }));
        } else {
          describe("Node's default client (security level 2: Node 24+) refuses it", () =>
            itFailsForEveryProbe(weak, keyTooWeak, { version }));
        }
        describe("a strict client (`ciphers: 'DEFAULT@SECLEVEL=2'`) refuses it on every Node", () =>
          itFailsForEveryProbe(weak, keyTooWeak, { version, with: STRICT_CLIENT }));
        describe("a client at `ciphers: 'DEFAULT@SECLEVEL=1'` accepts it on every Node", () =>
          itSucceedsForEveryProbe(weak, { version, with: LEVEL_1_CLIENT }));
        describe('fix: an EC P-256 key, accepted by the strict client', () =>
          itSucceedsForEveryProbe(fixed, { version, with: STRICT_CLIENT }));
      });
    }
    // Same fact on the server side: at level 1 createSecureContext takes the key, at level 2 it throws.
    if (DEFAULT_SECURITY_LEVEL === 1) {
      it('a server at the default security level (1: Node 20, 22) loads it', async () => {
        const [leaf, intermediate] = await servedChain('rsa-1024-leaf');
        expect(tls.createSecureContext({ key: leaf.keyPem, cert: leaf.certPem + intermediate.certPem })).to.be.an('object');
      });
    } else {
      it("a server at the default security level (2: Node 24+) refuses to load it: ERR_SSL_EE_KEY_TOO_SMALL 'ee key too small'", async () => {
        const [leaf, intermediate] = await servedChain('rsa-1024-leaf');
        const error = thrownBy(() => tls.createSecureContext({ key: leaf.keyPem, cert: leaf.certPem + intermediate.certPem }));
        expect(error).to.include({ code: 'ERR_SSL_EE_KEY_TOO_SMALL', message: 'error:0A00018F:SSL routines::ee key too small' });
      });
    }
  });

  describe('dhe-1024: a TLS 1.2 DHE key exchange over a 1024-bit group, client requires 2048 bits', () => {
    // What you see: TLS 1.2 on Node 20 and 22 — ERR_TLS_DH_PARAM_SIZE 'DH parameter size 1024 is less than 2048',
    // raised by Node itself (not OpenSSL) after OpenSSL completed the handshake, before 'secureConnect'. TLS 1.2 on
    // Node 24+ — ERR_SSL_DH_KEY_TOO_SMALL, OpenSSL's 'dh key too small', during the handshake (https: EPROTO). TLS 1.3
    // — nothing: the connection succeeds.
    // Why: the server offers only DHE-RSA-AES128-GCM-SHA256 for TLS 1.2, with 1024-bit DH parameters (Oakley group
    // 2), at SECLEVEL=1 on purpose (a server at level 2 refuses to load them), and the client sets `minDHSize: 2048`.
    // Who refuses the group depends on the client's default security level (DEFAULT_SECURITY_LEVEL in
    // support/runtime.ts): at level 1 (Node 20, 22) OpenSSL accepts a 1024-bit group and Node's minDHSize check
    // refuses it; at level 2 (Node 24+) OpenSSL refuses any group under 2048 bits itself, before Node looks. So on
    // Node 24+ even Node's default `minDHSize: 1024` does not let this group through. TLS 1.3 has no DHE-RSA suites
    // — a `ciphers` string of TLS 1.2 suites leaves the TLS 1.3 suites alone — so it negotiates ECDHE (X25519) and
    // neither check applies. The server warns at start-up (the SecurityWarning line in the test output is its).
    // Fix: DH parameters of at least 2048 bits (here RFC 3526 group 14), or ECDHE suites.
    it("its groups are exactly Node's getDiffieHellman('modp2') (served) and ('modp14') (the fix) primes", () => {
      // certs/dh-params.ts computes the primes from their RFC 2409 / RFC 3526 formulas; this holds them to Node's own
      // tables (the handshakes below show the parameters load and negotiate: 'DH parameter size 1024').
      for (const group of ['modp2', 'modp14'] as const) {
        expect(modpPrime(group).toString('hex'), group).to.equal(getDiffieHellman(group).getPrime('hex'));
      }
    });
    const warnings: string[] = [];
    const onWarning = (warning: Error) => {
      if (warning.name === 'SecurityWarning') warnings.push(`${warning.name}: ${warning.message}`);
    };
    before(() => process.on('warning', onWarning));
    after(() => process.off('warning', onWarning));
    const broken = useEndpoint('dhe-1024');
    const fixed = useEndpoint('dhe-1024', { fixed: true });

    describe('over TLSv1.2', () => {
      const nodeRefuses = { code: 'ERR_TLS_DH_PARAM_SIZE', message: 'DH parameter size 1024 is less than 2048', phase: 'handshake' } as const;
      // At level 2 (Node 24+) OpenSSL's security check fires first, with OpenSSL's error and no alert number in it.
      const opensslRefuses = { code: 'ERR_SSL_DH_KEY_TOO_SMALL', message: opensslError('dh key too small'), phase: 'handshake' } as const;
      // https writes the request before the handshake is done, so OpenSSL's error surfaces as that write's failure.
      const httpsOpensslRefuses = { ...opensslRefuses, code: 'EPROTO', message: opensslError('dh key too small', undefined, 'write EPROTO ') } as const;
      const itFailsAtLevel2 = (with_?: ClientOptions) => {
        itFails(broken, 'tls.connect', opensslRefuses, { version: 'TLSv1.2', with: with_ });
        itFails(broken, 'https.request', httpsOpensslRefuses, { version: 'TLSv1.2', with: with_ });
        itFails(broken, 'fetch', opensslRefuses, { version: 'TLSv1.2', with: with_ });
      };

      if (DEFAULT_SECURITY_LEVEL === 1) {
        describe('the client (`minDHSize: 2048`, security level 1: Node 20, 22): Node refuses the group', () =>
          itFailsForEveryProbe(broken, nodeRefuses, { version: 'TLSv1.2' }));
        describe("Node's default `minDHSize: 1024` accepts the 1024-bit group", () =>
          itSucceedsForEveryProbe(broken, { version: 'TLSv1.2', with: { minDHSize: 1024 } }));
      } else {
        describe('the client (`minDHSize: 2048`, security level 2: Node 24+): OpenSSL refuses the group first', () => {
          itFailsAtLevel2();
          it(`the server's view: tlsClientError ${ALERT_PREFIX.code}HANDSHAKE_FAILURE, the client's alert`, async () => {
            const outcome = await broken().probe('tls.connect', only('TLSv1.2'));
            const event = await broken().serverView(outcome);
            expect(event).to.deep.include({ kind: 'tls-client-error', code: `${ALERT_PREFIX.code}HANDSHAKE_FAILURE` });
            expect(event.kind === 'tls-client-error' && event.message).to.match(opensslError(`${ALERT_PREFIX.reason} handshake failure`, 40));
          });
        });
        describe("Node's default `minDHSize: 1024` does not help: OpenSSL refuses the group at level 2", () =>
          itFailsAtLevel2({ minDHSize: 1024 }));
      }
      describe("`minDHSize: 2048` at `ciphers: 'DEFAULT@SECLEVEL=1'`: Node's own check refuses it on every Node", () =>
        itFailsForEveryProbe(broken, nodeRefuses, { version: 'TLSv1.2', with: LEVEL_1_CLIENT }));
    });

    describe('over TLSv1.3 (ECDHE: no DH group to check)', () => itSucceedsForEveryProbe(broken, { version: 'TLSv1.3' }));

    // A Node server's own warning (process 'warning' event); a child-process server has no way to raise it here.
    itOnServers(
      ['node'],
      "the server warns at start-up: SecurityWarning 'DH parameter is less than 2048 bits' (the 2048-bit fix does not)",
      "a Node server's process warning: this server is a child process",
      () => expect(warnings).to.deep.equal(['SecurityWarning: DH parameter is less than 2048 bits']),
    );

    for (const version of TLS_VERSIONS) {
      describe(`fix over ${version}: 2048-bit DH parameters (RFC 3526 group 14)`, () => itSucceedsForEveryProbe(fixed, { version }));
    }
  });
});

/** The leaf and intermediate a scenario's (broken) server serves. */
async function servedChain(id: string) {
  const [leaf, intermediate] = (await scenarioMaterial(findScenario(id))).server.chain;
  if (!leaf || !intermediate) throw new Error(`${id} serves a leaf and its intermediate`);
  return [leaf, intermediate] as const;
}

/** The error `action` throws (the assertion fails if it throws none). */
function thrownBy(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`threw a non-Error: ${String(error)}`, { cause: error });
  }
  throw new Error('expected an error, none was thrown');
}
