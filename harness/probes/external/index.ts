import type { ClientFeature, Lacks } from '../../features.ts';
import type { ExternalOutcome, ExternalProbeName } from '../../outcome.ts';
import type { ExternalClient, ToolStatus } from './client.ts';
import { curlStatus, curlUnsupported, probeCurlMany } from './curl.ts';
import { opensslStatus, opensslUnsupported, probeSClientMany } from './openssl.ts';
import { probePythonMany, pythonStatus, pythonUnsupported } from './python.ts';

/** An external client: whether it is installed, what it cannot express, and a batch probe. */
export interface ExternalProbe {
  name: ExternalProbeName;
  /** The client features it has no option for, with why (a scenario whose client needs one is pending for it). */
  lacks: Lacks<ClientFeature>;
  /** Whether the tool is installed here (checked once, synchronously). */
  status(): ToolStatus;
  /** Why the tool cannot reproduce this client's values (e.g. an ALPN list curl has no option for), or undefined. */
  unsupported(client: ExternalClient): string | undefined;
  /** Probe every client (bounded concurrency, or one batched process); outcomes in input order, never throws for TLS. */
  probeMany(clients: readonly ExternalClient[], concurrency?: number): Promise<ExternalOutcome[]>;
}

/** Options only Node has: no tool can be given them (a tool row may name its own counterpart instead). */
const NODE_ONLY: Lacks<ClientFeature> = {
  'identity-callback': 'checkServerIdentity is a Node callback',
  'min-dh-size': 'minDHSize is a Node option',
  'partial-chain': 'allowPartialTrustChain is a Node option',
};

export const EXTERNAL_PROBES: Record<ExternalProbeName, ExternalProbe> = {
  curl: { name: 'curl', lacks: NODE_ONLY, status: curlStatus, unsupported: curlUnsupported, probeMany: probeCurlMany },
  'openssl s_client': {
    name: 'openssl s_client',
    lacks: { ...NODE_ONLY, 'identity-callback': 'checkServerIdentity is a Node callback, and s_client has no pinning option' },
    status: opensslStatus,
    unsupported: opensslUnsupported,
    probeMany: probeSClientMany,
  },
  'python ssl': {
    name: 'python ssl',
    lacks: { ...NODE_ONLY, 'identity-callback': "checkServerIdentity is a Node callback, and Python's ssl module has no pinning option" },
    status: pythonStatus,
    unsupported: pythonUnsupported,
    probeMany: probePythonMany,
  },
};

export const EXTERNAL_PROBE_NAMES = Object.keys(EXTERNAL_PROBES) as ExternalProbeName[];

export { externalClient, normalizeToolMessage, type ExternalClient, type ToolStatus } from './client.ts';
export { probeCurl, curlArguments } from './curl.ts';
export { probeSClient, sClientArguments } from './openssl.ts';
export { probePython } from './python.ts';
