import type { ClientOptions } from './probes/options.ts';
import type { ServerRecipe } from './scenario.ts';
import { isIssuanceChain } from './servers/recipe-settings.ts';

/**
 * What a scenario needs from a client and from a server, derived from its setup (and its declared `needs`), and what
 * each client and server says it lacks. Every pending test, every SKIP of `check` and every Unsupported of a backend
 * comes from here: the features a scenario needs, against what the backend, tool or stub declares it cannot do.
 */

// ---- Client features -------------------------------------------------------------------------------------------

export const CLIENT_FEATURES = [
  'client-certificate',
  'crl',
  'min-version',
  'max-version',
  'ciphers',
  'alpn',
  'min-dh-size',
  'reject-unauthorized',
  'identity-callback',
  'partial-chain',
  'environment',
  'unicode-host',
  'trailing-dot-sni',
] as const;
export type ClientFeature = (typeof CLIENT_FEATURES)[number];

/** A feature a client needs, with what it means for this client in words. */
export interface Need<F extends string> {
  feature: F;
  says: string;
}

/**
 * The features a client with these options needs beyond a CA bundle, a server name and a timeout, each with the
 * sentence that says what this client does (`the client offers ALPN http/1.1`). `server` is the recipe it talks to:
 * a trailing-dot name only matters to a server that picks its certificate by SNI.
 */
export function clientNeeds(client: ClientOptions, server?: ServerRecipe): Need<ClientFeature>[] {
  const needs: Need<ClientFeature>[] = [];
  const need = (feature: ClientFeature, says: string) => needs.push({ feature, says });
  if (client.cert !== undefined || client.key !== undefined) need('client-certificate', 'the client presents a certificate');
  if (client.crl !== undefined) need('crl', `the client checks the chain against ${client.crl.length} CRL(s)`);
  if (client.minVersion !== undefined) need('min-version', `the client's lowest TLS version is ${client.minVersion}`);
  if (client.maxVersion !== undefined) need('max-version', `the client's highest TLS version is ${client.maxVersion}`);
  if (client.ciphers !== undefined) need('ciphers', `the client offers only the ciphers ${client.ciphers}`);
  if (client.ALPNProtocols !== undefined) need('alpn', `the client offers ALPN ${client.ALPNProtocols.join(', ')}`);
  if (client.minDHSize !== undefined) need('min-dh-size', `the client demands DH groups of at least ${client.minDHSize} bits (minDHSize)`);
  if (client.rejectUnauthorized !== undefined)
    need('reject-unauthorized', `the client sets rejectUnauthorized: ${String(client.rejectUnauthorized)}`);
  if (client.checkServerIdentity !== undefined) {
    need('identity-callback', 'the client checks the server identity with a function of its own (checkServerIdentity)');
  }
  if (client.allowPartialTrustChain !== undefined)
    need('partial-chain', 'the client accepts a chain that ends in a trusted intermediate (allowPartialTrustChain)');
  if (client.env !== undefined) need('environment', `the client runs with ${Object.keys(client.env).join(', ')} set`);
  const name = client.servername;
  if (name !== undefined && !isAscii(name)) {
    need(
      'unicode-host',
      `the host name ${name} is not ASCII: whether it fails depends on whether the client converts it to its A-label (punycode) first`,
    );
  }
  if (name !== undefined && name.endsWith('.') && server?.sni !== undefined) {
    need(
      'trailing-dot-sni',
      `the server picks its certificate by SNI and the host name ${name} ends in a dot: the verdict depends on whether the client sends the dot in SNI (Node does; RFC 6066 says not to)`,
    );
  }
  return needs;
}

/** Plain ASCII: what goes on the wire as SNI without a conversion the client may or may not make. */
export function isAscii(name: string): boolean {
  return /^[\x21-\x7e]*$/.test(name);
}

// ---- Server features -------------------------------------------------------------------------------------------

export const SERVER_FEATURES = [
  'plain-http',
  'reset-on-client-hello',
  'silent',
  'http2-only',
  'http2',
  'several-sni-names',
  'sni-with-client-auth',
  'sni-chain-out-of-order',
  'sni-name-pattern',
  'alpn',
  /** What the server saw of a connection (the specs of "the server's view"). */
  'server-events',
  /** A Node server's process warning (a server in this process). */
  'process-warning',
] as const;
export type ServerFeature = (typeof SERVER_FEATURES)[number];

/** The features serving this recipe takes, in the order above. */
export function serverNeeds(recipe: ServerRecipe): ServerFeature[] {
  const found = new Set<ServerFeature>();
  const behaviour = recipe.behaviour ?? 'tls';
  if (behaviour !== 'tls') found.add(behaviour);
  if (recipe.http2) found.add(recipe.http2.allowHTTP1 ? 'http2' : 'http2-only');
  const sni = Object.entries(recipe.sni ?? {});
  if (sni.length > 1) found.add('several-sni-names');
  if (sni.length > 0 && recipe.clientAuth) found.add('sni-with-client-auth');
  if (sni.some(([, chain]) => !isIssuanceChain(chain))) found.add('sni-chain-out-of-order');
  if (sni.some(([name]) => /[*~]|^\./.test(name))) found.add('sni-name-pattern');
  if (recipe.alpn) found.add('alpn');
  return SERVER_FEATURES.filter((feature) => found.has(feature));
}

// ---- What a client or server lacks ---------------------------------------------------------------------------------

/** Why a client or server cannot do each feature it lacks; a function for a reason that names the recipe's values. */
export type Lacks<F extends string, R = undefined> = Partial<Record<F, string | ((subject: R) => string)>>;

/** The first feature of `needed` that `lacks` names, as its reason; undefined when nothing is lacking. */
export function firstLack<F extends string, R>(lacks: Lacks<F, R>, needed: readonly F[], subject: R): string | undefined {
  for (const feature of needed) {
    const reason = lacks[feature];
    if (reason !== undefined) return typeof reason === 'function' ? reason(subject) : reason;
  }
  return undefined;
}
