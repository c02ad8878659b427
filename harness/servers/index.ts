import type { ServerBackend } from './backend.ts';
import { containerBackend } from './container.ts';
import { nginxBackend } from './nginx.ts';
import { nodeBackend } from './node.ts';
import { opensslBackend } from './openssl.ts';

/** Every server backend, by the name TLS_HARNESS_SERVER selects it with. */
export const SERVER_BACKENDS = {
  node: nodeBackend,
  openssl: opensslBackend,
  nginx: nginxBackend,
  container: containerBackend,
} as const satisfies Record<string, ServerBackend>;

export type ServerBackendName = keyof typeof SERVER_BACKENDS;
export const SERVER_BACKEND_NAMES = Object.keys(SERVER_BACKENDS) as ServerBackendName[];

/** The environment variable that selects the backend the specs serve their scenarios with. */
export const SERVER_BACKEND_VARIABLE = 'TLS_HARNESS_SERVER';

export class UnknownBackend extends Error {
  override name = 'UnknownBackend';
}

function isBackendName(name: string): name is ServerBackendName {
  return Object.hasOwn(SERVER_BACKENDS, name);
}

export function findBackend(name: string): ServerBackend {
  if (!isBackendName(name)) {
    throw new UnknownBackend(`unknown server backend '${name}': choose one of ${SERVER_BACKEND_NAMES.join(', ')}`);
  }
  return SERVER_BACKENDS[name];
}

/** The backend named by TLS_HARNESS_SERVER (`node` when unset or empty); an unknown name is an error. */
export function backendFromEnvironment(env: NodeJS.ProcessEnv = process.env): ServerBackend {
  const name = env[SERVER_BACKEND_VARIABLE] ?? '';
  try {
    return findBackend(name === '' ? 'node' : name);
  } catch (error) {
    if (error instanceof UnknownBackend) throw new UnknownBackend(`${SERVER_BACKEND_VARIABLE}=${name}: ${error.message}`);
    throw error;
  }
}
