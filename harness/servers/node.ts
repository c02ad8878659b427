import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { successBody, type RunningServer, type ServerBackend } from './backend.ts';
import { EventQueue } from './events.ts';
import type { Scenario, ServerRecipe } from '../scenario.ts';

/** In-process `https` servers on 127.0.0.1: the default backend, no Docker or child process needed. */
export const nodeBackend: ServerBackend = {
  name: 'node',
  async start(scenario: Scenario, recipe: ServerRecipe): Promise<RunningServer> {
    const events = new EventQueue();
    const server = https.createServer(serverOptions(recipe), (request, response) => {
      const socket = request.socket as TLSSocket;
      response.setHeader('connection', 'close');
      response.setHeader('content-type', 'text/plain; charset=utf-8');
      response.end(successBody(scenario.id, socket.getProtocol(), socket.getPeerCertificate()?.subject?.CN));
    });
    server.on('secureConnection', (socket: TLSSocket) => {
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
    server.on('tlsClientError', (error: Error & { code?: string }, socket: TLSSocket) => {
      events.push({ kind: 'tls-client-error', code: error.code, message: error.message, clientPort: socket.remotePort });
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
          server.closeAllConnections();
        }),
    };
  },
};

function serverOptions(recipe: ServerRecipe): https.ServerOptions {
  const [leaf, ...rest] = recipe.chain;
  if (!leaf) throw new Error('a server recipe needs at least a leaf certificate');
  const options: https.ServerOptions = {
    key: leaf.keyPem,
    cert: [leaf, ...rest].map((c) => c.certPem).join(''),
  };
  if (recipe.minVersion) options.minVersion = recipe.minVersion;
  if (recipe.maxVersion) options.maxVersion = recipe.maxVersion;
  if (recipe.clientAuth) {
    options.requestCert = true;
    options.rejectUnauthorized = recipe.clientAuth.mode === 'require';
    options.ca = recipe.clientAuth.trust.map((c) => c.certPem);
  }
  return options;
}
