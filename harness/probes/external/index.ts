import type { ExternalOutcome, ExternalProbeName } from '../../outcome.ts';
import type { ExternalClient, ToolStatus } from './client.ts';
import { curlStatus, curlUnsupported, probeCurlMany } from './curl.ts';
import { opensslStatus, opensslUnsupported, probeSClientMany } from './openssl.ts';
import { probePythonMany, pythonStatus, pythonUnsupported } from './python.ts';

/** An external client: whether it is installed, what it cannot express, and a batch probe. */
export interface ExternalProbe {
  name: ExternalProbeName;
  /** Whether the tool is installed here (checked once, synchronously). */
  status(): ToolStatus;
  /** Why the tool cannot reproduce this client, or undefined when it can. */
  unsupported(client: ExternalClient): string | undefined;
  /** Probe every client (bounded concurrency, or one batched process); outcomes in input order, never throws for TLS. */
  probeMany(clients: readonly ExternalClient[], concurrency?: number): Promise<ExternalOutcome[]>;
}

export const EXTERNAL_PROBES: Record<ExternalProbeName, ExternalProbe> = {
  curl: { name: 'curl', status: curlStatus, unsupported: curlUnsupported, probeMany: probeCurlMany },
  'openssl s_client': { name: 'openssl s_client', status: opensslStatus, unsupported: opensslUnsupported, probeMany: probeSClientMany },
  'python ssl': { name: 'python ssl', status: pythonStatus, unsupported: pythonUnsupported, probeMany: probePythonMany },
};

export const EXTERNAL_PROBE_NAMES = Object.keys(EXTERNAL_PROBES) as ExternalProbeName[];

export {
  externalClient,
  nodeOnlyOptions,
  normalizeToolMessage,
  NODE_ONLY_OPTIONS,
  type ExternalClient,
  type NodeOnlyOption,
  type ToolStatus,
} from './client.ts';
export { probeCurl, curlArguments } from './curl.ts';
export { probeSClient, sClientArguments } from './openssl.ts';
export { probePython } from './python.ts';
