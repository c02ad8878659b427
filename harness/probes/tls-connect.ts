import * as tls from 'node:tls';
import { failure, type Outcome } from '../outcome.ts';
import { DEFAULT_PROBE_TIMEOUT_MS, ProbeTimeout, authority, tlsOptions, type ClientOptions, type Target } from './options.ts';

/**
 * `tls.connect`, then one HTTP/1.1 request read to the end of the connection.
 * Reading to the end is what makes the probe deterministic: in TLS 1.3 the server judges the client's certificate
 * after the client's `secureConnect`, so a probe that stopped at `secureConnect` would report success for a
 * connection the server is about to refuse.
 */
export function probeTlsConnect(target: Target, client: ClientOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    let secured = false;
    let protocol: string | undefined;
    let settled: Outcome | undefined;
    const received: Buffer[] = [];
    const timeoutMs = client.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    let socket: tls.TLSSocket;
    try {
      socket = tls.connect(tlsOptions(target, client));
    } catch (error) {
      resolve(failure('tls.connect', 'call', error));
      return;
    }
    const phase = () => (secured ? 'after-secureConnect' : 'handshake');
    let localPort: number | undefined;
    socket.once('connect', () => (localPort = socket.localPort));
    const connection = () => ({
      ...(localPort !== undefined ? { localPort } : {}),
      ...(protocol ? { protocol } : {}),
      ...(secured ? { authorized: socket.authorized } : {}),
      ...(socket.authorizationError ? { authorizationError: String(socket.authorizationError) } : {}),
    });
    const timer = setTimeout(() => {
      settled ??= failure('tls.connect', phase(), new ProbeTimeout(timeoutMs), connection());
      socket.destroy();
    }, timeoutMs);

    socket.once('secureConnect', () => {
      secured = true;
      protocol = socket.getProtocol() ?? undefined;
      socket.write(`GET / HTTP/1.1\r\nHost: ${authority(target, client)}\r\nConnection: close\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.once('error', (error) => {
      settled ??= failure('tls.connect', phase(), error, connection());
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(settled ?? responseOutcome(Buffer.concat(received).toString('latin1'), connection()));
    });
  });
}

function responseOutcome(raw: string, connection: Partial<Outcome>): Outcome {
  const status = /^HTTP\/1\.[01] (\d{3}) /.exec(raw);
  if (!status) {
    const error = Object.assign(new Error('connection closed without an HTTP response'), { code: 'NO_RESPONSE' });
    return failure('tls.connect', 'after-secureConnect', error, connection);
  }
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  return { probe: 'tls.connect', ok: true, phase: 'response', status: Number(status[1]), body, ...connection };
}
