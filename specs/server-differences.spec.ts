import type { SecureVersion } from 'node:tls';
import { expect } from 'chai';
import {
  PROBE_NAMES,
  SERVER_BACKENDS,
  ServerStartError,
  SERVER_BACKEND_NAMES,
  Unsupported,
  startEndpoint,
  type Endpoint,
  type Outcome,
  type ProbeName,
  type ServerBackendName,
  type ServerSoftware,
} from '../harness/index.ts';
import { TLS_VERSIONS, only, verifyMessage } from './support/runtime.ts';
import { skipCurrentTest, successLine } from './support/backend.ts';
import { expectFailure, explain, failureTitle, forProbe, type ExpectedFailure } from './support/expectations.ts';
import {
  CERTIFICATE_ERROR,
  CERTIFICATE_EXPIRED,
  CERTIFICATE_REQUIRED,
  CERTIFICATE_REVOKED,
  HANDSHAKE_FAILURE,
  NO_CERTIFICATE_SENT,
  UNKNOWN_CA,
  UNSUPPORTED_CERTIFICATE,
  alertFor, droppedWithoutAlert, nginxErrorPage, type Alert } from './support/refusals.ts';

/**
 * The same scenario served by every server backend at once — node (in-process), openssl s_server and nginx (child
 * processes), and nginx again in a container (testcontainers) — and what each client sees of each, side by side. These are the places where servers really differ:
 * the rest of the catalog reads the same whichever backend serves it (`TLS_HARNESS_SERVER=openssl npm test`).
 *
 * Refusing a client certificate is where they part most. A Node server (requestCert + rejectUnauthorized) lets the
 * handshake finish, then verifies the certificate and destroys the socket without an alert: the client sees a bare
 * close and only the server knows why. openssl s_server (-Verify with -verify_return_error) lets OpenSSL verify during
 * the handshake and sends the alert that names the reason (`unknown ca`, `certificate expired`…). nginx
 * (ssl_verify_client on) completes the handshake whatever the client sent and refuses the *request*: HTTP 400 with a
 * page that says 'No required SSL certificate was sent' or 'The SSL certificate error' — no client reports an error
 * at all. A missing certificate is refused by OpenSSL during the handshake on Node and s_server alike.
 *
 * The container column is nginx's: the same program must give the same answers, wherever it runs.
 *
 * A backend whose program is not installed (or, for the container, no Docker daemon) is pending with that reason (in CI, TLS_HARNESS_REQUIRE_TOOLS=1 makes it a
 * failure instead).
 */

/** What one client sees of one server. */
type Seen =
  | { kind: 'fails'; failure: ExpectedFailure }
  | { kind: 'nginx-400'; reason: string }
  | { kind: 'succeeds'; clientCommonName?: string };

type SeenBy = (probe: ProbeName, version: SecureVersion) => Seen;

interface Difference {
  id: string;
  title: string;
  /** Keyed by the program that serves: the container backend runs nginx, and must be seen as nginx is. */
  seen: Record<ServerSoftware, SeenBy>;
}

const fails = (failure: ExpectedFailure): Seen => ({ kind: 'fails', failure });
const nginx400 = (reason: string): SeenBy => () => ({ kind: 'nginx-400', reason });
const alert = (refusal: Alert): SeenBy => (probe, version) => fails(alertFor(probe, version, refusal));
const dropped: SeenBy = (probe, version) => fails(droppedWithoutAlert(probe, version));

/** OpenSSL's alert for a TLS 1.2 handshake without the required certificate, and TLS 1.3's own alert for it. */
const certificateMissing: SeenBy = (probe, version) =>
  fails(alertFor(probe, version, version === 'TLSv1.3' ? CERTIFICATE_REQUIRED : HANDSHAKE_FAILURE));

const DIFFERENCES: Difference[] = [
  {
    id: 'missing-client-cert',
    title: 'the server requires a client certificate and the client sends none',
    // Node and s_server both leave it to OpenSSL (SSL_VERIFY_FAIL_IF_NO_PEER_CERT): the same alerts.
    seen: { node: certificateMissing, openssl: certificateMissing, nginx: nginx400(NO_CERTIFICATE_SENT) },
  },
  {
    id: 'untrusted-client-cert',
    title: 'the client certificate comes from a CA the server does not trust',
    seen: {
      node: dropped,
      openssl: alert(UNKNOWN_CA),
      nginx: nginx400(CERTIFICATE_ERROR),
    },
  },
  {
    id: 'expired-client-cert',
    title: 'the client certificate has expired',
    seen: {
      node: dropped,
      openssl: alert(CERTIFICATE_EXPIRED),
      nginx: nginx400(CERTIFICATE_ERROR),
    },
  },
  {
    id: 'client-cert-server-auth-eku',
    title: 'the client certificate is for serverAuth only',
    seen: {
      node: dropped,
      // OpenSSL's alert for INVALID_PURPOSE (ssl_verify_alarm_type).
      openssl: alert(UNSUPPORTED_CERTIFICATE),
      nginx: nginx400(CERTIFICATE_ERROR),
    },
  },
  {
    id: 'revoked-client-cert',
    title: 'the server checks a CRL that lists the client certificate',
    seen: {
      node: dropped,
      openssl: alert(CERTIFICATE_REVOKED),
      nginx: nginx400(CERTIFICATE_ERROR),
    },
  },
  {
    id: 'trailing-dot-sni',
    title: "'localhost.' sent as SNI to a server that picks its certificate by name",
    // Node's SNICallback and s_server (-servername, strcasecmp) compare the name as sent, dot included, and fall back
    // to the default certificate. nginx drops a trailing dot from the SNI name first (ngx_http_validate_host), finds
    // the server block for localhost and sends its certificate — what RFC 6066 wants.
    seen: {
      node: () => fails(altnameInvalid()),
      openssl: () => fails(altnameInvalid()),
      nginx: () => ({ kind: 'succeeds' }),
    },
  },
];

function altnameInvalid(): ExpectedFailure {
  return {
    code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    message: "Hostname/IP does not match certificate's altnames: Host: localhost. is not in the cert's altnames: DNS:default.example.test",
    phase: 'handshake',
  };
}

function describeSeen(seen: Seen, probe: ProbeName): string {
  if (seen.kind === 'nginx-400') return `${probe} completes the handshake and reads HTTP 400 '${seen.reason}'`;
  if (seen.kind === 'succeeds') return `${probe} succeeds: HTTP 200`;
  return failureTitle(probe, forProbe(probe, seen.failure));
}

function expectSeen(seen: Seen, endpoint: Endpoint, probe: ProbeName, version: SecureVersion, outcome: Outcome): void {
  if (seen.kind === 'fails') return expectFailure(outcome, forProbe(probe, seen.failure));
  const facts = { ok: outcome.ok, phase: outcome.phase, status: outcome.status, body: successLine(outcome.body, endpoint.software) };
  if (seen.kind === 'nginx-400') {
    expect(facts, explain(outcome)).to.deep.equal({ ok: true, phase: 'response', status: 400, body: nginxErrorPage(400, 'Bad Request', seen.reason) });
  } else {
    const client = seen.clientCommonName === undefined ? '' : ` client=${seen.clientCommonName}`;
    expect(facts, explain(outcome)).to.deep.equal({ ok: true, phase: 'response', status: 200, body: `ok ${endpoint.scenario.id} ${version}${client}\n` });
  }
}

describe('server differences: the same scenario on every server backend, side by side', () => {
  /** Per backend and scenario: the running endpoint, or why there is none. */
  const endpoints = new Map<string, Endpoint | { pending: string }>();
  const key = (backend: ServerBackendName, id: string) => `${backend} ${id}`;
  const required = process.env.TLS_HARNESS_REQUIRE_TOOLS === '1';

  before(async () => {
    // Every backend's servers for every scenario start at once (each child server has its own port and temp dir).
    await Promise.all(
      SERVER_BACKEND_NAMES.map(async (name) => {
        const backend = SERVER_BACKENDS[name];
        const unavailable = await backend.unavailable?.();
        if (unavailable && required) throw new Error(`${unavailable}, and TLS_HARNESS_REQUIRE_TOOLS=1`);
        await Promise.all(
          DIFFERENCES.map(async ({ id }) => {
            if (unavailable) return endpoints.set(key(name, id), { pending: unavailable });
            try {
              endpoints.set(key(name, id), await startEndpoint(id, { backend }));
            } catch (error) {
              if (!(error instanceof Unsupported)) throw error;
              endpoints.set(key(name, id), { pending: `${name} cannot serve ${id}: ${error.message}` });
            }
          }),
        );
      }),
    );
  });
  after(async () => {
    await Promise.all([...endpoints.values()].map((endpoint) => ('close' in endpoint ? endpoint.close() : undefined)));
  });

  for (const difference of DIFFERENCES) {
    describe(`${difference.id}: ${difference.title}`, () => {
      for (const version of TLS_VERSIONS) {
        describe(`over ${version}`, () => {
          for (const probe of PROBE_NAMES) {
            for (const backend of SERVER_BACKEND_NAMES) {
              const seen = difference.seen[SERVER_BACKENDS[backend].software](probe, version);
              it(`${backend}: ${describeSeen(seen, probe)}`, async () => {
                const endpoint = endpoints.get(key(backend, difference.id));
                if (!endpoint) throw new Error(`no ${backend} endpoint for ${difference.id}`);
                if ('pending' in endpoint) return skipCurrentTest(endpoint.pending);
                expectSeen(seen, endpoint, probe, version, await endpoint.probe(probe, only(version)));
              });
            }
          }
        });
      }
    });
  }
});

/**
 * A server configured with key material it cannot use. A Node server throws while https.createServer builds its
 * secure context; the child servers exit at start-up with their own words (normalized below: no dates, process or
 * thread ids, temp paths or source locations). openssl s_server reads a DER certificate as readily as PEM (its loader
 * detects the format), so it starts — and serves that one certificate without its intermediate.
 */
type StartSeen =
  | { kind: 'throws'; code: string; message: string }
  | { kind: 'exits'; output: string[] }
  | { kind: 'serves'; failure: ExpectedFailure };

const START_DIFFERENCES: { id: string; title: string; seen: Record<ServerSoftware, StartSeen> }[] = [
  {
    id: 'key-certificate-mismatch',
    title: "the server's key belongs to another certificate",
    seen: {
      node: { kind: 'throws', code: 'ERR_OSSL_X509_KEY_VALUES_MISMATCH', message: 'error:05800074:x509 certificate routines::key values mismatch' },
      openssl: {
        kind: 'exits',
        output: ['error setting private key', 'error:05800074:x509 certificate routines:X509_check_private_key:key values mismatch'],
      },
      nginx: {
        kind: 'exits',
        output: ['[emerg] SSL_CTX_use_PrivateKey("<dir>/server.key") failed (SSL: error:05800074:x509 certificate routines::key values mismatch)'],
      },
    },
  },
  {
    id: 'wrong-key-passphrase',
    title: "the server's encrypted key gets the wrong passphrase",
    seen: {
      node: { kind: 'throws', code: 'ERR_OSSL_BAD_DECRYPT', message: 'error:1C800064:Provider routines::bad decrypt' },
      openssl: {
        kind: 'exits',
        output: [
          'Could not read server certificate private key from <dir>/server.key',
          'error:1608010C:STORE routines:ossl_store_handle_load_result:unsupported',
          'error:1C800064:Provider routines:ossl_cipher_unpadblock:bad decrypt',
          'error:11800074:PKCS12 routines:PKCS12_pbe_crypt_ex:pkcs12 cipherfinal error:maybe wrong password',
        ],
      },
      nginx: {
        kind: 'exits',
        output: [
          '[emerg] cannot load certificate key "<dir>/server.key": PEM_read_bio_PrivateKey() failed (SSL: ' +
            'error:1C800064:Provider routines::bad decrypt error:11800074:PKCS12 routines::pkcs12 cipherfinal error:maybe wrong password ' +
            'error:1C800064:Provider routines::bad decrypt error:11800074:PKCS12 routines::pkcs12 cipherfinal error:maybe wrong password)',
        ],
      },
    },
  },
  {
    id: 'der-instead-of-pem',
    title: 'the server certificate is given as DER',
    seen: {
      node: { kind: 'throws', code: 'ERR_OSSL_PEM_NO_START_LINE', message: 'error:0480006C:PEM routines::no start line' },
      openssl: {
        kind: 'serves',
        failure: {
          code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
          message: verifyMessage('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
          phase: 'handshake',
        },
      },
      nginx: {
        kind: 'exits',
        output: [
          '[emerg] cannot load certificate "<dir>/server.crt": PEM_read_bio_X509_AUX() failed (SSL: error:0480006C:PEM routines::no start line:Expecting: TRUSTED CERTIFICATE)',
        ],
      },
    },
  },
];

/** A child server's output, each line without what varies between runs. */
function normalizedOutput(output: string): string[] {
  return output
    .split('\n')
    .map((line) =>
      line
        .replace(/\/[^\s"]*\/tls-harness-[^/\s"]+/g, '<dir>') // the endpoint's temp dir
        .replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d (\[\w+\]) \d+#\d+: /, '$1 ') // nginx's date, pid#tid
        // OpenSSL's error lines without the thread id and the source location (file:line) before any extra data
        .replace(/^[0-9A-F]+:(error:[0-9A-F]{8}:[^:]*:[^:]*:[^:]*):[^:]*:\d+:(.*)$/, (_, line: string, data: string) => (data ? `${line}:${data}` : line)),
    )
    .filter((line) => line.trim() !== '');
}

function describeStart(seen: StartSeen): string {
  if (seen.kind === 'throws') return `https.createServer throws ${seen.code}`;
  if (seen.kind === 'exits') return `exits at start-up: ${seen.output.join(' / ')}`;
  return `starts, and tls.connect fails with ${seen.failure.code}`;
}

describe('server differences: a server configured with key material it cannot use, on every backend', () => {
  for (const difference of START_DIFFERENCES) {
    describe(`${difference.id}: ${difference.title}`, () => {
      for (const backend of SERVER_BACKEND_NAMES) {
        const seen = difference.seen[SERVER_BACKENDS[backend].software];
        it(`${backend}: ${describeStart(seen)}`, async () => {
          const unavailable = await SERVER_BACKENDS[backend].unavailable?.();
          if (unavailable) {
            if (process.env.TLS_HARNESS_REQUIRE_TOOLS === '1') throw new Error(`${unavailable}, and TLS_HARNESS_REQUIRE_TOOLS=1`);
            skipCurrentTest(unavailable);
          }
          const started = await startEndpoint(difference.id, { backend: SERVER_BACKENDS[backend] }).then(
            (endpoint) => ({ endpoint }),
            (error: unknown) => ({ error }),
          );
          if ('endpoint' in started) {
            try {
              expect(seen.kind, `${backend} started`).to.equal('serves');
              if (seen.kind === 'serves') expectFailure(await started.endpoint.probe('tls.connect', only('TLSv1.3')), seen.failure);
            } finally {
              await started.endpoint.close();
            }
            return;
          }
          const { error } = started;
          if (error instanceof Unsupported) return skipCurrentTest(`${backend} cannot serve ${difference.id}: ${error.message}`);
          if (seen.kind === 'throws') {
            expect(error).to.be.instanceOf(Error);
            const { code, message } = error as Error & { code?: string };
            expect({ code, message }).to.deep.equal({ code: seen.code, message: seen.message });
          } else {
            expect(error, String(error)).to.be.instanceOf(ServerStartError);
            const { exitCode, output } = error as ServerStartError;
            expect({ exitCode, output: normalizedOutput(output).filter((line) => !/^\[notice\]/.test(line)) }).to.deep.equal({
              // testcontainers removes a container that failed to start, and its exit status with it.
              exitCode: backend === 'container' ? undefined : 1,
              output: seen.kind === 'exits' ? seen.output : [],
            });
          }
        });
      }
    });
  }
});
