import type { SecureVersion } from 'node:tls';
import { expect } from 'chai';
import { PROBE_NAMES, type ClientOptions, type Endpoint, type ProbeName } from '../../harness/index.ts';
import { ALERT_PREFIX, only } from './runtime.ts';
import { explain, opensslError, type ExpectedFailure } from './expectations.ts';

/**
 * How each server backend refuses a client: the expectations the specs key on TLS_HARNESS_SERVER where servers
 * really differ (support/backend.ts). A Node server that refuses a client certificate closes the connection without
 * an alert; openssl s_server, which lets OpenSSL judge the certificate during the handshake, sends the alert; nginx
 * completes the handshake and refuses the request with an HTTP 400 page.
 */

/** nginx's reasons, on its HTTP 400 page, for a refused client certificate (ngx_http_special_response.c). */
export const NO_CERTIFICATE_SENT = 'No required SSL certificate was sent';
export const CERTIFICATE_ERROR = 'The SSL certificate error';

/**
 * nginx's built-in error page for `status`, as it sends it with `server_tokens off` (the nginx backend's setting):
 * e.g. 400 with 'No required SSL certificate was sent' or 'The SSL certificate error' for a refused client certificate.
 */
export function nginxErrorPage(status: number, statusText: string, reason: string): string {
  return [
    '<html>',
    `<head><title>${status} ${reason}</title></head>`,
    '<body>',
    `<center><h1>${status} ${statusText}</h1></center>`,
    `<center>${reason}</center>`,
    '<hr><center>nginx</center>',
    '</body>',
    '</html>',
    '',
  ].join('\r\n');
}

/** A TLS alert as Node's client names it: its ERR_SSL_* code, OpenSSL's reason string and the alert number. */
export interface Alert {
  code: string;
  reason: string;
  number: number;
}

/**
 * An alert of SSL 3.0's set, which OpenSSL 3.2 renamed from 'sslv3 alert …' to 'ssl/tls alert …' — and with it
 * Node's ERR_SSL_SSLV3_ALERT_* codes (ALERT_PREFIX).
 */
function sslAlert(name: string, number: number): Alert {
  return { code: `${ALERT_PREFIX.code}${name.toUpperCase().replace(/ /g, '_')}`, reason: `${ALERT_PREFIX.reason} ${name}`, number };
}

export const HANDSHAKE_FAILURE = sslAlert('handshake failure', 40);
export const UNSUPPORTED_CERTIFICATE = sslAlert('unsupported certificate', 43);
export const CERTIFICATE_REVOKED = sslAlert('certificate revoked', 44);
export const CERTIFICATE_EXPIRED = sslAlert('certificate expired', 45);
export const UNKNOWN_CA: Alert = { code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', reason: 'tlsv1 alert unknown ca', number: 48 };
/** TLS 1.3's own alert for a handshake without the certificate the server requires. */
export const CERTIFICATE_REQUIRED: Alert = { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', reason: 'tlsv13 alert certificate required', number: 116 };

/**
 * A fatal alert that ends the handshake, as each client reports it: tls.connect and fetch (its cause) with the
 * alert's code and OpenSSL's reason; https.request, which has already written its request into the handshake, as
 * that write's failure — EPROTO, the same reason prefixed by 'write EPROTO'.
 */
export function alertInHandshake(probe: ProbeName, alert: Alert): ExpectedFailure {
  return probe === 'https.request'
    ? { code: 'EPROTO', message: opensslError(alert.reason, alert.number, 'write EPROTO '), phase: 'handshake' }
    : { code: alert.code, message: opensslError(alert.reason, alert.number), phase: 'handshake' };
}

/**
 * A Node server (requestCert + rejectUnauthorized) refusing a client certificate: it verifies the certificate after
 * the handshake and destroys the socket without an alert. Over TLS 1.3 the client has finished its side of the
 * handshake (secureConnect) before that: tls.connect, which reads to the end, finds the connection closed with no
 * HTTP response; https, waiting for the response, reports 'socket hang up'; undici reports the close as
 * UND_ERR_SOCKET. Over TLS 1.2 the server verifies before it sends its Finished, so every client sees the connection
 * end during the handshake.
 */
export function droppedWithoutAlert(probe: ProbeName, version: SecureVersion): ExpectedFailure {
  if (version === 'TLSv1.2') {
    return { code: 'ECONNRESET', message: 'Client network socket disconnected before secure TLS connection was established', phase: 'handshake' };
  }
  if (probe === 'tls.connect') return { code: 'NO_RESPONSE', message: 'connection closed without an HTTP response', phase: 'after-secureConnect' };
  if (probe === 'https.request') return { code: 'ECONNRESET', message: 'socket hang up', phase: 'after-secureConnect' };
  return { code: 'UND_ERR_SOCKET', message: 'other side closed', phase: 'request' };
}

/**
 * A fatal alert the server sends in reply to the client's certificate, as each client reports it. Over TLS 1.3 the
 * client has finished its side of the handshake (secureConnect) when it arrives: tls.connect and https.request report
 * it after secureConnect, and undici sees the server close the socket before it reads the alert (UND_ERR_SOCKET
 * 'other side closed'). Over TLS 1.2 it ends the handshake (alertInHandshake).
 */
export function alertFor(probe: ProbeName, version: SecureVersion, alert: Alert): ExpectedFailure {
  if (version === 'TLSv1.3') {
    return probe === 'fetch'
      ? { code: 'UND_ERR_SOCKET', message: 'other side closed', phase: 'request' }
      : { code: alert.code, message: opensslError(alert.reason, alert.number), phase: 'after-secureConnect' };
  }
  return alertInHandshake(probe, alert);
}

/**
 * nginx refuses a client certificate (or its absence) in HTTP, not in TLS: the handshake completes and the request
 * gets HTTP 400 with nginx's error page naming the reason. No client reports an error.
 */
export function itGetsNginxErrorPage(endpoint: () => Endpoint, probe: ProbeName, version: SecureVersion, reason: string, with_: ClientOptions = {}): void {
  it(`${probe} completes the handshake over ${version} and reads nginx's HTTP 400 page '${reason}'`, async () => {
    const outcome = await endpoint().probe(probe, { ...only(version), ...with_ });
    expect({ ok: outcome.ok, phase: outcome.phase, status: outcome.status, protocol: outcome.protocol, body: outcome.body }, explain(outcome)).to.deep.equal({
      ok: true,
      phase: 'response',
      status: 400,
      // fetch hides its socket, so only the socket probes know the protocol.
      protocol: probe === 'fetch' ? undefined : version,
      body: nginxErrorPage(400, 'Bad Request', reason),
    });
  });
}

export function itGetsNginxErrorPageForEveryProbe(endpoint: () => Endpoint, version: SecureVersion, reason: string): void {
  for (const probe of PROBE_NAMES) itGetsNginxErrorPage(endpoint, probe, version, reason);
}

