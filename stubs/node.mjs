#!/usr/bin/env node
// A strict HTTPS client, written as a trytls client stub:  node stubs/node.mjs <host> <port> [ca-bundle]
//
// It makes one GET with node:https and prints what happened, then its verdict on the last line: ACCEPT (a response
// was read to its end) or REJECT (the TLS connection failed). See stubs/README.md for the convention.
//
// Strict beyond Node's defaults, the way a careful client should be:
// - OpenSSL security level 2 (`DEFAULT@SECLEVEL=2`): RSA and DH keys under 2048 bits and SHA-1 signatures are
//   refused (Node's own default is level 1, which lets a 1024-bit RSA server key through);
// - no host-name match on the subject CN: a certificate without a subjectAltName is refused (RFC 9525; browsers
//   since 2017), where Node's checkServerIdentity still falls back to the CN;
// - rejectUnauthorized: true, explicitly: NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment cannot turn it off.
// Node never fetches revocation information: a revoked certificate is accepted unless the client is given CRLs.
import { readFileSync } from 'node:fs';
import { setTimeout } from 'node:timers';
import { request } from 'node:https';
import { isIP } from 'node:net';
import { checkServerIdentity } from 'node:tls';
import { domainToASCII } from 'node:url';

const [host, port, caFile] = process.argv.slice(2);
if (!host || !port) {
  console.error('usage: node.mjs <host> <port> [ca-bundle]');
  process.exit(2);
}
// Extensions of the trytls convention (stubs/README.md): where to connect, and how long to wait.
const address = process.env.TLS_HARNESS_ADDRESS || host;
const timeoutMs = Number(process.env.TLS_HARNESS_TIMEOUT || 10) * 1000;
// The name as it goes on the wire and into the certificate check: an IDN in its A-label (punycode) form, and
// without a trailing dot ("localhost." is "localhost"; RFC 6066 keeps the dot out of SNI).
const name = isIP(host) ? host : (domainToASCII(host) || host).replace(/\.$/, '');

function strictIdentity(hostname, cert) {
  if (!cert.subjectaltname) return new Error(`certificate has no subjectAltName (CN=${cert.subject?.CN ?? ''}); the CN is not matched`);
  return checkServerIdentity(hostname, cert);
}

let connected = false;
const req = request({
  host: address,
  port: Number(port),
  path: '/',
  headers: { host: `${name.includes(':') ? `[${name}]` : name}:${port}` },
  servername: isIP(name) ? undefined : name,
  ca: caFile ? readFileSync(caFile) : undefined, // a bundle replaces the default roots; none: the default roots
  ciphers: 'DEFAULT@SECLEVEL=2',
  checkServerIdentity: strictIdentity,
  rejectUnauthorized: true, // explicitly: NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment only changes the default
  agent: false,
});
req.on('socket', (socket) => socket.once('connect', () => (connected = true)));
// One bound for everything (connect, handshake, response), like curl --max-time.
const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'TIMEOUT' })), timeoutMs);
timer.unref();
req.on('response', (response) => {
  response.resume();
  response.on('end', () => {
    console.log(`${response.socket.getProtocol?.() ?? 'TLS'} HTTP ${response.statusCode}`);
    console.log('ACCEPT');
  });
  response.on('error', reject);
});
req.on('error', reject);
req.end();

function reject(error) {
  console.log(`${error.code ?? error.name}: ${String(error.message).split('\n')[0]}`);
  if (!connected)
    process.exitCode = 1; // no TCP connection at all: no verdict to give
  else console.log('REJECT');
}
