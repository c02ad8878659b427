import type { SecureVersion } from 'node:tls';
import { expect } from 'chai';
import { PROBE_NAMES, type ClientOptions, type Endpoint, type Outcome, type ProbeName } from '../harness/index.ts';
import { ALERT_PREFIX, TLS_VERSIONS, only, opensslAtLeast } from './support/runtime.ts';
import { startOnBackend, useEndpoint } from './support/endpoints.ts';
import { useEarly } from './support/early.ts';
import {
  expectFailure,
  expectSuccess,
  explain,
  failureTitle,
  forProbe,
  itFails,
  itFailsForEveryProbe,
  itSucceeds,
  itSucceedsForEveryProbe,
  opensslError,
  type ExpectedFailure,
} from './support/expectations.ts';

/**
 * A fatal TLS error in the handshake as each client reports it: tls.connect and fetch (on its cause) carry Node's
 * ERR_SSL_* code; https.request has already written its request into the unfinished handshake, so the error surfaces
 * as that write's failure — EPROTO, with the same OpenSSL line after 'write EPROTO '.
 */
function handshakeError(probe: ProbeName, code: string, reason: string, alertNumber?: number): ExpectedFailure {
  return probe === 'https.request'
    ? { code: 'EPROTO', message: opensslError(reason, alertNumber, 'write EPROTO '), phase: 'handshake' }
    : { code, message: opensslError(reason, alertNumber), phase: 'handshake' };
}

/** undici 8 (Node 26) makes fetch offer h2 besides http/1.1 in ALPN; earlier versions offer http/1.1 only. */
const FETCH_OFFERS_H2 = Number((process.versions.undici ?? '0').split('.')[0]) >= 8;

/** `it` for a probe run with the scenario's client exactly as configured: no TLS version pinned, since the scenario is about versions. */
function itFailsAsConfigured(endpoint: () => Endpoint, probe: ProbeName, expected: ExpectedFailure): void {
  itFailsWith(endpoint, probe, expected, {});
}

/** `it` for a probe with the scenario's client plus `overrides` (and no TLS version pinned). */
function itFailsWith(endpoint: () => Endpoint, probe: ProbeName, expected: ExpectedFailure, overrides: ClientOptions): void {
  const exact = forProbe(probe, expected);
  it(failureTitle(probe, exact), async () => expectFailure(await endpoint().probe(probe, overrides), exact));
}

/** Every probe, with the client as configured, completes an exchange over the version the two ends negotiate. */
function itSucceedsAsConfigured(endpoint: () => Endpoint, negotiated: SecureVersion): void {
  for (const probe of PROBE_NAMES) {
    it(`${probe} succeeds: HTTP 200 over ${negotiated} (negotiated)`, async () =>
      expectSuccess(await endpoint().probe(probe), endpoint(), negotiated));
  }
}

/** The server's tlsClientError for the connection tls.connect made: OpenSSL's reason, no alert (the server sent it). */
function itShowsServerError(endpoint: () => Endpoint, code: string, reason: string, version?: SecureVersion): void {
  const over = version ? ` over ${version}` : '';
  it(`the server's view${over}: tlsClientError ${code} '${reason}'`, async () => {
    const outcome = await endpoint().probe('tls.connect', version ? only(version) : {});
    const event = await endpoint().serverView(outcome);
    expect(event, JSON.stringify(event)).to.deep.include({ kind: 'tls-client-error', code });
    expect(event.kind === 'tls-client-error' && event.message).to.match(opensslError(reason));
  });
}

describe('protocol', () => {
  describe('legacy-tls-server: the server speaks only TLS 1.0 and 1.1', () => {
    // What you see: ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION 'tlsv1 alert protocol version' (alert 70); https.request:
    // EPROTO with the same line. Not ERR_SSL_UNSUPPORTED_PROTOCOL: that is the server's side of the story.
    // Why: Node's client offers TLS 1.2–1.3 (default minVersion TLSv1.2); the server's highest version is 1.1, so
    // it finds nothing in common in the ClientHello and answers with a protocol_version alert.
    // Fix: upgrade the server to TLS 1.2+. Lowering the client is a workaround, and needs two settings (below).
    const broken = useEndpoint('legacy-tls-server');
    const fixed = useEndpoint('legacy-tls-server', { fixed: true });
    describe("with Node's default client (TLSv1.2–TLSv1.3)", () => {
      for (const probe of PROBE_NAMES) {
        itFailsAsConfigured(broken, probe, handshakeError(probe, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'tlsv1 alert protocol version', 70));
      }
      itShowsServerError(broken, 'ERR_SSL_UNSUPPORTED_PROTOCOL', 'unsupported protocol');
    });
    describe('the client-side workaround (legacy protocols; deprecated by RFC 8996)', () => {
      // minVersion 'TLSv1' alone is not enough at OpenSSL 3's default security level 1: OpenSSL 3.0 offers TLS 1.0
      // and 1.1 but then refuses the SHA-1/MD5 signature of the server's TLS 1.1 key exchange; OpenSSL 3.5 does not
      // even offer them, so the server's protocol_version alert comes back as before. (Observed on 3.0.19 and
      // 3.5.9; Node ships no OpenSSL in between.)
      const minVersionOnly = { minVersion: 'TLSv1', maxVersion: undefined } as const;
      describe("minVersion 'TLSv1' alone", () => {
        for (const probe of PROBE_NAMES) {
          const expected = opensslAtLeast(3, 5)
            ? handshakeError(probe, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'tlsv1 alert protocol version', 70)
            : handshakeError(probe, 'ERR_SSL_LEGACY_SIGALG_DISALLOWED_OR_UNSUPPORTED', 'legacy sigalg disallowed or unsupported');
          itFailsWith(broken, probe, expected, minVersionOnly);
        }
      });
      describe("minVersion 'TLSv1' and ciphers 'DEFAULT@SECLEVEL=0' connect, over TLSv1.1", () => {
        for (const probe of PROBE_NAMES) {
          itSucceeds(broken, probe, { version: 'TLSv1.1', with: { ...minVersionOnly, ciphers: 'DEFAULT@SECLEVEL=0' } });
        }
      });
    });
    describe('fix: a server that speaks TLS 1.2 and 1.3', () => itSucceedsAsConfigured(fixed, 'TLSv1.3'));
  });

  describe('tls13-server-tls12-client: the server requires TLS 1.3, the client stops at TLS 1.2', () => {
    // What you see: ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION 'tlsv1 alert protocol version' (alert 70); https.request:
    // EPROTO with the same line.
    // Why: the client (maxVersion TLSv1.2) offers nothing the server (minVersion TLSv1.3) accepts; the server
    // answers the ClientHello with a protocol_version alert.
    // Fix: let the client negotiate TLS 1.3 — drop its maxVersion.
    const broken = useEndpoint('tls13-server-tls12-client');
    const fixed = useEndpoint('tls13-server-tls12-client', { fixed: true });
    describe('with the client capped at maxVersion TLSv1.2', () => {
      for (const probe of PROBE_NAMES) {
        itFailsAsConfigured(broken, probe, handshakeError(probe, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'tlsv1 alert protocol version', 70));
      }
      itShowsServerError(broken, 'ERR_SSL_UNSUPPORTED_PROTOCOL', 'unsupported protocol');
    });
    describe("fix: the client's default maxVersion (TLSv1.3)", () => itSucceedsAsConfigured(fixed, 'TLSv1.3'));
  });

  describe('no-shared-cipher: client and server allow disjoint TLS 1.2 cipher suites', () => {
    // What you see over TLS 1.2: the handshake-failure alert (40) — ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE on
    // OpenSSL < 3.2, ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE from 3.2 (see ALERT_PREFIX); https.request: EPROTO.
    // Over TLS 1.3: nothing — both strings name TLS 1.2 suites only, and TLS 1.3 suites are a separate list (the
    // TLS_* names, left at their defaults here).
    // Why: the server allows only ECDHE-ECDSA-AES128-GCM-SHA256, the client offers only
    // ECDHE-ECDSA-CHACHA20-POLY1305; the server can pick nothing and aborts (its own error: 'no shared cipher').
    // Fix: make the lists overlap.
    const broken = useEndpoint('no-shared-cipher');
    const fixed = useEndpoint('no-shared-cipher', { fixed: true });
    describe('over TLSv1.2', () => {
      for (const probe of PROBE_NAMES) {
        const expected = handshakeError(probe, `${ALERT_PREFIX.code}HANDSHAKE_FAILURE`, `${ALERT_PREFIX.reason} handshake failure`, 40);
        itFails(broken, probe, expected, { version: 'TLSv1.2' });
      }
      itShowsServerError(broken, 'ERR_SSL_NO_SHARED_CIPHER', 'no shared cipher', 'TLSv1.2');
      describe('fix: the client also offers ECDHE-ECDSA-AES128-GCM-SHA256', () =>
        itSucceedsForEveryProbe(fixed, { version: 'TLSv1.2' }));
    });
    describe('over TLSv1.3 the same settings connect (no TLS_* suite named: TLS 1.3 keeps its defaults)', () =>
      itSucceedsForEveryProbe(broken, { version: 'TLSv1.3' }));
  });

  describe('plain-http-on-tls-port: the port answers in plain HTTP', () => {
    // What you see: ERR_SSL_WRONG_VERSION_NUMBER 'wrong version number' (no alert: the client's own parse error);
    // https.request: EPROTO with the same line.
    // Why: the server answered the ClientHello with "HTTP/1.1 400 Bad Request" in clear text; OpenSSL reads
    // "HTTP" as the header of a TLS record whose version field is nonsense.
    // Fix: use http:// for that port, or connect to the port that serves TLS.
    const broken = useEndpoint('plain-http-on-tls-port');
    const fixed = useEndpoint('plain-http-on-tls-port', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        for (const probe of PROBE_NAMES) {
          itFails(broken, probe, handshakeError(probe, 'ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'), { version });
        }
        describe('fix: a TLS server on that port', () => itSucceedsForEveryProbe(fixed, { version }));
      });
    }
  });

  describe('closed-before-handshake: the server resets the connection before any TLS byte', () => {
    // What you see: ECONNRESET 'read ECONNRESET' from every client — a TCP reset, read while the client waits for
    // the ServerHello.
    // Why: the server accepted the TCP connection and, when the ClientHello arrived, reset it.
    // Fix: nothing in TLS — find out why the server side hangs up, and connect to an endpoint that serves TLS.
    const broken = useEndpoint('closed-before-handshake');
    const fixed = useEndpoint('closed-before-handshake', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(
          broken,
          { code: 'ECONNRESET', message: 'read ECONNRESET', phase: 'handshake' },
          { version },
        );
        describe('fix: a server that completes the handshake', () => itSucceedsForEveryProbe(fixed, { version }));
      });
    }
  });

  describe('handshake-never-completes: the server accepts the connection and never answers', () => {
    // What you see: nothing, until a timeout. tls.connect and https.request have no handshake timeout by default
    // and would wait forever; here the probes' own 300 ms bound ends them (PROBE_TIMEOUT). fetch is aborted by its
    // AbortSignal.timeout(300): it rejects with that signal's DOMException TimeoutError, not 'fetch failed'.
    // (Without a signal, undici's connector would give up after 10 s with UND_ERR_CONNECT_TIMEOUT.)
    // Why: the server reads the ClientHello and says nothing.
    // Fix: bound every connection with a timeout, and connect to a port that serves TLS.
    const fixed = useEndpoint('handshake-never-completes', { fixed: true });
    const timeoutMs = 300; // the scenario's own client timeout (its ClientSetup.timeoutMs), stated here for the titles
    // The three probes wait out their timeouts side by side, each on its own connection to the silent server, and
    // from the start of the run (useEarly): the 300 ms pass while the other specs run.
    const waited = useEarly(async () => {
      const broken = await startOnBackend('handshake-never-completes');
      try {
        const results = await Promise.all(PROBE_NAMES.map((probe) => broken.probe(probe, { timeoutMs })));
        return new Map(PROBE_NAMES.map((probe, index) => [probe, results[index] as Outcome]));
      } finally {
        await broken.close();
      }
    });
    for (const probe of ['tls.connect', 'https.request'] as const) {
      it(`${probe} fails with PROBE_TIMEOUT: 'no outcome within ${timeoutMs} ms' (still in the handshake)`, () => {
        expectFailure(waited().get(probe) as Outcome, { code: 'PROBE_TIMEOUT', message: `no outcome within ${timeoutMs} ms`, phase: 'handshake' });
      });
    }
    it(`fetch rejects with DOMException TimeoutError: 'The operation was aborted due to timeout' (no cause)`, () => {
      const outcome = waited().get('fetch') as Outcome;
      expect(outcome.ok, explain(outcome)).to.equal(false);
      expect(
        { errorName: outcome.errorName, message: outcome.message, code: outcome.code, cause: outcome.cause, phase: outcome.phase },
        explain(outcome),
      ).to.deep.equal({
        errorName: 'TimeoutError',
        message: 'The operation was aborted due to timeout',
        code: undefined,
        cause: undefined,
        phase: 'request',
      });
    });
    describe('fix: a server that answers the ClientHello', () => itSucceedsAsConfigured(fixed, 'TLSv1.3'));
  });

  describe('alpn-mismatch: the server accepts only h2, the client offers only http/1.1', () => {
    // What you see: ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL 'tlsv1 alert no application protocol' (alert 120);
    // https.request: EPROTO with the same line.
    // Why: both sides use ALPN and their lists do not intersect; RFC 7301 has the server refuse with a
    // no_application_protocol alert (its own error: 'no application protocol').
    // A client that offers no ALPN at all gets through. fetch never is that client: up to undici 7 (Node 20–24)
    // its connector offers exactly http/1.1, whatever ALPNProtocols its options carry, so it fails like the others;
    // undici 8 (Node 26) offers h2 as well, so for it there is no mismatch: it speaks HTTP/2 and succeeds.
    // Fix: make the lists overlap — here the server also accepts http/1.1 (allowHTTP1: true).
    const broken = useEndpoint('alpn-mismatch');
    const fixed = useEndpoint('alpn-mismatch', { fixed: true });
    const noApplicationProtocol = (probe: ProbeName) =>
      handshakeError(probe, 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL', 'tlsv1 alert no application protocol', 120);
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFails(broken, 'tls.connect', noApplicationProtocol('tls.connect'), { version });
        itFails(broken, 'https.request', noApplicationProtocol('https.request'), { version });
        if (FETCH_OFFERS_H2) {
          describe('fetch on undici ≥ 8 (Node 26) offers h2 too: ALPN settles on h2', () =>
            itSucceeds(broken, 'fetch', { version }));
        } else {
          itFails(broken, 'fetch', noApplicationProtocol('fetch'), { version });
        }
        itShowsServerError(broken, 'ERR_SSL_NO_APPLICATION_PROTOCOL', 'no application protocol', version);
        describe('a client that offers no ALPN completes the handshake, but meets an HTTP/2-only server', () => {
          // With no ALPN the TLS handshake succeeds; http2.createSecureServer then gets HTTP/1.1 bytes and, with no
          // 'unknownProtocol' listener, answers 'HTTP/1.0 403 Forbidden' and closes.
          for (const probe of ['tls.connect', 'https.request'] as const) {
            it(`${probe} completes the handshake over ${version} and reads HTTP status 403 (Forbidden)`, async () => {
              const outcome = await broken().probe(probe, { ...only(version), ALPNProtocols: undefined });
              expect({ ok: outcome.ok, status: outcome.status, protocol: outcome.protocol }, explain(outcome)).to.deep.equal({
                ok: true,
                status: 403,
                protocol: version,
              });
            });
          }
        });
        if (!FETCH_OFFERS_H2) {
          describe("fetch with no ALPNProtocols in its options: undici offers http/1.1 all the same", () =>
            itFails(broken, 'fetch', noApplicationProtocol('fetch'), { version, with: { ALPNProtocols: undefined } }));
        }
        describe('fix: the server accepts http/1.1', () => itSucceedsForEveryProbe(fixed, { version }));
      });
    }
  });

  describe('oversize-certificate: the server certificate carries 10000 subjectAltName entries', () => {
    // What you see: ERR_SSL_EXCESSIVE_MESSAGE_SIZE 'excessive message size' (the client's own limit, so no alert
    // number); https.request: EPROTO with the same line.
    // Why: the Certificate message (~189 KB) exceeds OpenSSL's limit for a peer's chain (max_cert_list, 100 KiB by
    // default), which Node offers no option to raise; the client stops reading before it verifies anything.
    // Fix: serve smaller certificates (split the names by SNI, or use a wildcard).
    const broken = useEndpoint('oversize-certificate');
    const fixed = useEndpoint('oversize-certificate', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        for (const probe of PROBE_NAMES) {
          itFails(broken, probe, handshakeError(probe, 'ERR_SSL_EXCESSIVE_MESSAGE_SIZE', 'excessive message size'), { version });
        }
        describe('fix: a certificate with the names it needs', () => itSucceedsForEveryProbe(fixed, { version }));
      });
    }
  });
});
