import type { ClientSetup } from '../scenario.ts';

/**
 * Settings a scenario's client runs with that the scenario's material does not declare: the process environment.
 * node-tls-reject-unauthorized-0 is an expired certificate met by a client whose process has
 * NODE_TLS_REJECT_UNAUTHORIZED=0; `check` reproduces that in the stub's environment (a Node stub that relies on
 * the default of rejectUnauthorized then accepts, one that passes `rejectUnauthorized: true` still rejects).
 */
export const CLIENT_ENVIRONMENT: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'node-tls-reject-unauthorized-0': { NODE_TLS_REJECT_UNAUTHORIZED: '0' },
};

/**
 * The ClientSetup fields every client can be given: what to trust, which name to ask for, and how long to wait
 * (`timeoutMs`, which `check` passes on as the stub's TLS_HARNESS_TIMEOUT).
 */
const PLAIN_FIELDS = new Set<string>(['trust', 'servername', 'timeoutMs']);

/**
 * Why a client that is given only a host, a port and a CA bundle cannot reproduce this scenario's client: one reason
 * per client setting beyond those (a client certificate, CRLs, pinned versions…). Empty when it can.
 * A field this function does not know yet is reported by name, so a new ClientSetup field is never ignored.
 */
export function settingsBeyondTrust(client: ClientSetup): string[] {
  const reasons: string[] = [];
  for (const [field, value] of Object.entries(client) as Array<[keyof ClientSetup, unknown]>) {
    if (PLAIN_FIELDS.has(field) || value === undefined) continue;
    reasons.push(describeSetting(field, client));
  }
  return reasons;
}

function describeSetting(field: keyof ClientSetup, client: ClientSetup): string {
  switch (field) {
    case 'present':
      return `the client presents a certificate (${client.present?.label})`;
    case 'crl':
      return `the client checks the chain against ${client.crl?.length} CRL(s)`;
    case 'minVersion':
      return `the client's lowest TLS version is ${client.minVersion}`;
    case 'maxVersion':
      return `the client's highest TLS version is ${client.maxVersion}`;
    case 'ciphers':
      return `the client offers only the ciphers ${client.ciphers}`;
    case 'alpn':
      return `the client offers ALPN ${client.alpn?.join(', ')}`;
    case 'minDHSize':
      return `the client demands DH groups of at least ${client.minDHSize} bits (minDHSize)`;
    case 'rejectUnauthorized':
      return `the client sets rejectUnauthorized: ${String(client.rejectUnauthorized)}`;
    case 'checkServerIdentity':
      return 'the client checks the server identity with a function of its own (checkServerIdentity)';
    default:
      return `the client is configured with ${String(field)}`;
  }
}

/** Plain ASCII: what goes on the wire as SNI without a conversion the client may or may not make. */
export function isAscii(name: string): boolean {
  return /^[\x21-\x7e]*$/.test(name);
}
