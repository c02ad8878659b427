import type { ClientRequest } from 'node:http';
import * as https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { failure, type Outcome } from '../outcome.ts';
import { DEFAULT_PROBE_TIMEOUT_MS, ProbeTimeout, authority, tlsOptions, type ClientOptions, type Target } from './options.ts';

/** `https.request` (GET /, no agent: a fresh connection each time), resolved once the request has fully closed. */
export function probeHttpsRequest(target: Target, client: ClientOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    let socket: TLSSocket | undefined;
    let secured = false;
    let localPort: number | undefined;
    let protocol: string | undefined;
    let settled: Outcome | undefined;
    const timeoutMs = client.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    const connection = () => ({
      ...(localPort !== undefined ? { localPort } : {}),
      ...(secured && socket
        ? {
            protocol,
            authorized: socket.authorized,
            ...(socket.authorizationError ? { authorizationError: String(socket.authorizationError) } : {}),
          }
        : {}),
    });
    let request: ClientRequest;
    try {
      request = https.request({
        ...tlsOptions(target, client),
        method: 'GET',
        path: '/',
        agent: false,
        headers: { host: authority(target, client) },
      });
    } catch (error) {
      resolve(failure('https.request', 'call', error));
      return;
    }
    const timer = setTimeout(() => request.destroy(new ProbeTimeout(timeoutMs)), timeoutMs);
    request.once('socket', (s) => {
      socket = s as TLSSocket;
      socket.once('connect', () => (localPort = socket?.localPort));
      socket.once('secureConnect', () => {
        secured = true;
        protocol = socket?.getProtocol() ?? undefined;
      });
    });
    request.once('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('end', () => {
        settled ??= {
          probe: 'https.request',
          ok: true,
          phase: 'response',
          status: response.statusCode,
          body: Buffer.concat(chunks).toString('utf8'),
          ...connection(),
        };
      });
    });
    request.once('error', (error) => {
      settled ??= failure('https.request', secured ? 'after-secureConnect' : 'handshake', error, connection());
    });
    request.once('close', () => {
      clearTimeout(timer);
      const closeWithoutResponse = Object.assign(new Error('request closed without a complete response'), {
        code: 'NO_RESPONSE',
      });
      resolve(settled ?? failure('https.request', 'after-secureConnect', closeWithoutResponse, connection()));
    });
    request.end();
  });
}
