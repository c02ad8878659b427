import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { successBody, type RunningServer, type ServerBackend } from './backend.ts';
import { EventQueue } from './events.ts';
import type { Credential } from '../../certs/index.ts';
import type { Scenario, ServerRecipe } from '../scenario.ts';

/** In-process servers on 127.0.0.1: the default backend, no Docker or child process needed. */
export const nodeBackend: ServerBackend = {
  name: 'node',
  software: 'node',
  lacks: {},
  async start(scenario: Scenario, recipe: ServerRecipe): Promise<RunningServer> {
    const behaviour = recipe.behaviour ?? 'tls';
    const events = new EventQueue();
    const server = behaviour === 'tls' ? httpsServer(scenario, recipe, events) : misbehavingServer(behaviour);
    const sockets = new Set<net.Socket>();
    server.on('connection', (socket: net.Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return {
      port: (server.address() as AddressInfo).port,
      eventFor: (clientPort, timeoutMs) => events.take((event) => event.clientPort === clientPort, timeoutMs),
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const socket of sockets) socket.destroy();
        }),
    };
  },
};

function httpsServer(scenario: Scenario, recipe: ServerRecipe, events: EventQueue): tls.Server {
  const answer = (socket: tls.TLSSocket) => successBody(scenario.id, socket.getProtocol(), socket.getPeerCertificate()?.subject?.CN);
  const server: tls.Server = recipe.http2
    ? // An HTTP/2 server: ALPN h2 (plus http/1.1 when allowHTTP1), answered through the compatibility API.
      http2.createSecureServer({ ...serverOptions(recipe), allowHTTP1: recipe.http2.allowHTTP1 }, (request, response) => {
        if (request.httpVersionMajor === 1) response.setHeader('connection', 'close');
        response.setHeader('content-type', 'text/plain; charset=utf-8');
        response.end(answer(request.socket as tls.TLSSocket));
      })
    : https.createServer(serverOptions(recipe), (request, response) => {
        response.setHeader('connection', 'close');
        response.setHeader('content-type', 'text/plain; charset=utf-8');
        response.end(answer(request.socket as tls.TLSSocket));
      });
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    const peer = socket.getPeerCertificate();
    events.push({
      kind: 'secure',
      protocol: socket.getProtocol() ?? undefined,
      authorized: socket.authorized,
      authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
      peerCommonName: peer && peer.subject ? String(peer.subject.CN) : undefined,
      clientPort: socket.remotePort,
    });
  });
  // A server with rejectUnauthorized that dislikes the client's certificate destroys the socket right after the
  // handshake, without an alert; Node then reports tlsClientError ECONNRESET 'socket hang up' for a socket whose
  // handle is gone, so its remotePort reads undefined. 'keylog' is the one server event that hands over the
  // TLSSocket during the handshake, while the port can still be read.
  const clientPorts = new WeakMap<tls.TLSSocket, number>();
  server.on('keylog', (_line: Buffer, socket: tls.TLSSocket) => {
    if (!clientPorts.has(socket) && socket.remotePort !== undefined) clientPorts.set(socket, socket.remotePort);
  });
  server.on('tlsClientError', (error: Error & { code?: string }, socket: tls.TLSSocket) => {
    events.push({
      kind: 'tls-client-error',
      code: error.code,
      message: error.message,
      // Set when the handshake completed and the client certificate then failed verification.
      ...(socket.authorizationError ? { authorizationError: String(socket.authorizationError) } : {}),
      clientPort: socket.remotePort ?? clientPorts.get(socket),
    });
  });
  return server;
}

/** A plain TCP server that is not a TLS server at all (see ServerBehaviour). */
function misbehavingServer(behaviour: Exclude<ServerRecipe['behaviour'], 'tls' | undefined>): net.Server {
  return net.createServer((socket) => {
    socket.on('error', () => socket.destroy()); // the client hanging up on us is the expected end
    // Reset (RST) once the ClientHello has arrived: waiting for it makes the client's view the same every time —
    // its ClientHello is out, and its next read meets the reset (closing at accept raced the client's write).
    if (behaviour === 'reset-on-client-hello') socket.once('data', () => socket.resetAndDestroy());
    if (behaviour === 'plain-http') {
      socket.once('data', () =>
        socket.end(
          'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 40\r\nConnection: close\r\n\r\nThis port speaks plain HTTP, not HTTPS.\n',
        ),
      );
    }
    // 'silent': accept and say nothing; the client's own timeout ends the connection.
  });
}

function chainOptions(chain: Credential[]): { key: string; cert: string } {
  const [leaf] = chain;
  if (!leaf) throw new Error('a server recipe needs at least a leaf certificate');
  return { key: leaf.keyPem, cert: chain.map((c) => c.certPem).join('') };
}

function serverOptions(recipe: ServerRecipe): https.ServerOptions {
  const options: https.ServerOptions = { ...chainOptions(recipe.chain), ...recipe.raw };
  if (recipe.minVersion) options.minVersion = recipe.minVersion;
  if (recipe.maxVersion) options.maxVersion = recipe.maxVersion;
  if (recipe.ciphers) options.ciphers = recipe.ciphers;
  if (recipe.dhparam) options.dhparam = recipe.dhparam;
  if (recipe.alpn) options.ALPNProtocols = recipe.alpn;
  if (recipe.clientAuth) {
    options.requestCert = true;
    options.rejectUnauthorized = recipe.clientAuth.mode === 'require';
    options.ca = recipe.clientAuth.trust.map((c) => c.certPem);
    if (recipe.clientAuth.crl) options.crl = recipe.clientAuth.crl;
  }
  if (recipe.sni) {
    // Each SNI context must carry the same settings as the default one, except the certificate.
    const contexts = new Map(
      Object.entries(recipe.sni).map(([name, chain]) => [
        name.toLowerCase(),
        tls.createSecureContext({ ...options, ...chainOptions(chain) }),
      ]),
    );
    options.SNICallback = (servername, callback) => callback(null, contexts.get(servername.toLowerCase()));
  }
  return options;
}
