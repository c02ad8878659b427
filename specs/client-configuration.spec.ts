import type { SecureVersion } from 'node:tls';
import { expect } from 'chai';
import { pki } from '../certs/index.ts';
import { PROBE_NAMES, probeInChildWithStderr, type ChildProbe, type ClientOptions, type Endpoint, type Outcome, type ProbeName } from '../harness/index.ts';
import { CertificatePinMismatch, fingerprint256, previousServerCertificate } from '../harness/scenarios/client-configuration.ts';
import { TLS_VERSIONS, only } from './support/runtime.ts';
import { startOnBackend, useEndpoint } from './support/endpoints.ts';
import { useEarly } from './support/early.ts';
import { expectFailure, expectSuccess, explain, forProbe, itFailsForEveryProbe, itSucceedsForEveryProbe } from './support/expectations.ts';

const certificateHasExpired = { code: 'CERT_HAS_EXPIRED', message: 'certificate has expired', phase: 'handshake' } as const;

/**
 * A success that verification did not vouch for: HTTP 200, and — for the clients that expose their socket — the
 * verdict Node recorded and ignored. fetch hides its socket, so it reports a plain success.
 */
function expectUnverifiedSuccess(outcome: Outcome, endpoint: Endpoint, version: SecureVersion): void {
  expectSuccess(outcome, endpoint, version);
  const verdict = { authorized: outcome.authorized, authorizationError: outcome.authorizationError };
  if (outcome.probe === 'fetch') expect(verdict, explain(outcome)).to.deep.equal({ authorized: undefined, authorizationError: undefined });
  else expect(verdict, explain(outcome)).to.deep.equal({ authorized: false, authorizationError: 'CERT_HAS_EXPIRED' });
}

function unverifiedTitle(probe: ProbeName, version: string): string {
  return probe === 'fetch'
    ? `fetch succeeds: HTTP 200 over ${version} — and, with no socket to look at, nothing tells the application`
    : `${probe} succeeds: HTTP 200 over ${version}, with authorized === false and authorizationError CERT_HAS_EXPIRED`;
}

describe('client configuration', () => {
  describe('reject-unauthorized-false: verification switched off with rejectUnauthorized: false', () => {
    // What you see: no error. Every client gets HTTP 200 from a server whose certificate expired yesterday.
    // tls.connect and https.request still record the verdict (socket.authorized false, authorizationError
    // CERT_HAS_EXPIRED) and ignore it; fetch has no socket, so not even that is visible.
    // Why: `rejectUnauthorized: false` does not skip verification, it skips acting on it — so an expired,
    // self-signed or attacker-made certificate all pass. It is the usual "fix" for a TLS error, and it is wrong:
    // a strict client must reject this endpoint.
    // Fix: remove the option and fix what it hid (here: renew the certificate).
    const broken = useEndpoint('reject-unauthorized-false');
    const fixed = useEndpoint('reject-unauthorized-false', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        for (const probe of PROBE_NAMES) {
          it(unverifiedTitle(probe, version), async () => expectUnverifiedSuccess(await broken().probe(probe, only(version)), broken(), version));
        }
        describe('what it hides: with rejectUnauthorized: true (the default) the same endpoint is refused', () =>
          itFailsForEveryProbe(broken, certificateHasExpired, { version, with: { rejectUnauthorized: true } }));
        describe('fix: verification on, and a renewed certificate', () => {
          itSucceedsForEveryProbe(fixed, { version });
          it('tls.connect: authorized === true, no authorizationError', async () => {
            const outcome = await fixed().probe('tls.connect', only(version));
            expect({ authorized: outcome.authorized, authorizationError: outcome.authorizationError }, explain(outcome)).to.deep.equal({
              authorized: true,
              authorizationError: undefined,
            });
          });
        });
      });
    }
  });

  describe('node-tls-reject-unauthorized-0: NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment (probed from a child process)', () => {
    // What you see: no error — every client in the process accepts the expired certificate — and one line on
    // stderr: "(node:PID) Warning: Setting the NODE_TLS_REJECT_UNAUTHORIZED environment variable to '0' makes TLS
    // connections and HTTPS requests insecure by disabling certificate verification."
    // Why: the variable turns the default of rejectUnauthorized to false for tls, https and fetch alike (see
    // reject-unauthorized-false). A client that passes `rejectUnauthorized: true` itself still verifies. The
    // probes run in a fresh Node that has the variable, so this process stays strict and the warning is captured.
    // Fix: unset the variable and fix the real problem (here: renew the certificate).
    const broken = useEndpoint('node-tls-reject-unauthorized-0');
    const fixed = useEndpoint('node-tls-reject-unauthorized-0', { fixed: true });
    const withVariable = TLS_VERSIONS.flatMap((version) => PROBE_NAMES.map((probe) => ({ probe, version })));
    const explicitlyStrict = PROBE_NAMES.map((probe) => ({ probe, version: 'TLSv1.3' as const }));
    // The child process starts with the run (useEarly): its ~0.6 s overlap the other specs.
    const childRun = useEarly(async () => {
      const endpoint = await startOnBackend('node-tls-reject-unauthorized-0');
      try {
        const plan = (cases: { probe: ProbeName; version: SecureVersion }[], extra: ClientOptions): ChildProbe[] =>
          cases.map(({ probe, version }) => {
            const { checkServerIdentity: _none, ...options } = endpoint.clientOptions();
            return { probe, target: { host: endpoint.host, port: endpoint.port }, options: { ...options, ...only(version), ...extra } };
          });
        const result = await probeInChildWithStderr(
          [...plan(withVariable, {}), ...plan(explicitlyStrict, { rejectUnauthorized: true })],
          { NODE_TLS_REJECT_UNAUTHORIZED: '0' },
        );
        const outcomes = new Map<object, Outcome>();
        [...withVariable, ...explicitlyStrict].forEach((c, index) => outcomes.set(c, result.outcomes[index] as Outcome));
        return { outcomes, stderr: result.stderr, endpoint };
      } finally {
        await endpoint.close();
      }
    });

    for (const c of withVariable) {
      it(`over ${c.version}: ${unverifiedTitle(c.probe, c.version)}`, () =>
        expectUnverifiedSuccess(childRun().outcomes.get(c) as Outcome, childRun().endpoint, c.version));
    }
    it("stderr: exactly one warning — 'Setting the NODE_TLS_REJECT_UNAUTHORIZED environment variable to '0' makes … insecure'", () => {
      expect(childRun().stderr).to.match(
        /^\(node:\d+\) Warning: Setting the NODE_TLS_REJECT_UNAUTHORIZED environment variable to '0' makes TLS connections and HTTPS requests insecure by disabling certificate verification\.\n\(Use `node --trace-warnings \.\.\.` to show where the warning was created\)\n$/,
      );
    });
    for (const c of explicitlyStrict) {
      it(`${c.probe} with an explicit rejectUnauthorized: true still fails with CERT_HAS_EXPIRED: 'certificate has expired'`, () =>
        expectFailure(childRun().outcomes.get(c) as Outcome, forProbe(c.probe, certificateHasExpired)));
    }

    for (const version of TLS_VERSIONS) {
      describe(`fix over ${version}: without the variable (this process)`, () => {
        describe('the expired certificate is refused', () => itFailsForEveryProbe(broken, certificateHasExpired, { version }));
        describe('a renewed certificate is accepted', () => itSucceedsForEveryProbe(fixed, { version }));
      });
    }
  });

  describe('certificate-pin-mismatch: checkServerIdentity pins the certificate the server had before its renewal', () => {
    // What you see: exactly the Error the custom checkServerIdentity returned — here CertificatePinMismatch,
    // code ERR_CERT_PIN_MISMATCH, 'certificate pin mismatch for localhost: the server presented SHA-256 …, the
    // client pins …' — from tls.connect and https.request, and as fetch's cause. Node does not wrap it.
    // Why: the chain and the host name are fine, but the server renewed its certificate and the pinned
    // fingerprint belongs to the old one.
    // Fix: update the pin ahead of rotations — better, pin the key (SPKI) or the CA, with a backup pin.
    const broken = useEndpoint('certificate-pin-mismatch');
    const fixed = useEndpoint('certificate-pin-mismatch', { fixed: true });
    const pinMessage = async () =>
      `certificate pin mismatch for localhost: the server presented SHA-256 ${fingerprint256(await pki.serverLeaf())}, ` +
      `the client pins ${fingerprint256(await previousServerCertificate())}`;
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        for (const probe of PROBE_NAMES) {
          const title =
            probe === 'fetch'
              ? "fetch rejects with TypeError 'fetch failed', cause: the CertificatePinMismatch (ERR_CERT_PIN_MISMATCH) that checkServerIdentity returned"
              : `${probe} fails with the CertificatePinMismatch (ERR_CERT_PIN_MISMATCH) that checkServerIdentity returned`;
          it(title, async () => {
            const outcome = await broken().probe(probe, only(version));
            expectFailure(outcome, forProbe(probe, { code: 'ERR_CERT_PIN_MISMATCH', message: await pinMessage(), phase: 'handshake' }));
            // The very object the function returned (fetch: as the cause of its TypeError).
            expect(probe === 'fetch' ? outcome.error?.cause : outcome.error, explain(outcome)).to.be.instanceOf(CertificatePinMismatch);
          });
        }
        describe('fix: pin the certificate the server presents now', () => itSucceedsForEveryProbe(fixed, { version }));
      });
    }
  });

  describe('wrong-servername: the client asks for a name the server has no certificate for', () => {
    // What you see: ERR_TLS_CERT_ALTNAME_INVALID "Hostname/IP does not match certificate's altnames: Host:
    // example.test. is not in the cert's altnames: DNS:localhost, …" — the names of the server's *default*
    // certificate, which is what a name without its own certificate gets.
    // Why: the server picks its certificate by SNI; it has one for www.example.test and a default (localhost) for
    // anything else. The client's servername, example.test, matches neither.
    // Fix: ask for a name the server has a certificate for (servername or URL host www.example.test).
    const broken = useEndpoint('wrong-servername');
    const fixed = useEndpoint('wrong-servername', { fixed: true });
    const reason = "Host: example.test. is not in the cert's altnames: DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1";
    const expected = { code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: `Hostname/IP does not match certificate's altnames: ${reason}`, phase: 'handshake' } as const;
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(broken, expected, { version });
        it("tls.connect: the error's host is 'example.test' and its cert is the default one (CN=localhost)", async () => {
          const outcome = await broken().probe('tls.connect', only(version));
          expectFailure(outcome, expected);
          const error = outcome.error as Record<string, unknown>;
          expect({ host: error.host, subject: (error.cert as { subject?: { CN?: string } }).subject?.CN }).to.deep.equal({
            host: 'example.test',
            subject: 'localhost',
          });
        });
        describe('fix: servername www.example.test', () => itSucceedsForEveryProbe(fixed, { version }));
      });
    }
  });
});
