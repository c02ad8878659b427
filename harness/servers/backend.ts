import { firstLack, serverNeeds, type Lacks, type ServerFeature } from '../features.ts';
import type { Scenario, ServerRecipe } from '../scenario.ts';

/** What a server saw of one connection: how the server side of the story ends. */
export type ServerEvent = (
  | {
      kind: 'secure';
      protocol: string | undefined;
      authorized: boolean;
      authorizationError: string | undefined;
      /** The client certificate's subject CN, when the client sent one. */
      peerCommonName: string | undefined;
    }
  | {
      kind: 'tls-client-error';
      code: string | undefined;
      message: string;
      /** Why the client certificate was refused, when the handshake completed and verification then failed. */
      authorizationError?: string;
    }
) & {
  /** The client's port: ties the event to the probe that made the connection (Outcome.localPort). */
  clientPort: number | undefined;
};

/** A started server for one scenario. */
export interface RunningServer {
  port: number;
  /** What the server saw of the connection from `clientPort`, waiting up to `timeoutMs` for it. */
  eventFor(clientPort: number, timeoutMs?: number): Promise<ServerEvent>;
  close(): Promise<void>;
}

/** The server program that answers the client: what decides how a server behaves, wherever it runs. */
export type ServerSoftware = 'node' | 'openssl' | 'nginx';

/**
 * A way to run a ServerRecipe. What it cannot express faithfully it declares in `lacks`, feature by feature with the
 * reason (harness/features.ts); `start` throws `Unsupported` for such a recipe, and the specs register the tests that
 * need it as pending with that reason (unsupportedBy).
 */
export interface ServerBackend {
  name: string;
  /** The program that serves: `container` runs nginx, so it behaves exactly as the `nginx` backend does. */
  software: ServerSoftware;
  lacks: Lacks<ServerFeature, ServerRecipe>;
  /** Why this backend cannot serve here and now even what it can express (e.g. a container under a faked clock). */
  refuses?(): string | undefined;
  start(scenario: Scenario, recipe: ServerRecipe): Promise<RunningServer>;
  /** Why the backend cannot run on this machine (its program is not installed), or undefined when it can. */
  unavailable?(): Promise<string | undefined>;
}

export class Unsupported extends Error {
  override name = 'Unsupported';
}

/** Why `backend` cannot serve `recipe` (and, with `extra`, offer the features a test needs besides), or undefined. */
export function unsupportedBy(backend: ServerBackend, recipe: ServerRecipe, extra: readonly ServerFeature[] = []): string | undefined {
  return backend.refuses?.() ?? firstLack(backend.lacks, [...serverNeeds(recipe), ...extra], recipe);
}

/** Throw Unsupported when `backend` cannot serve `recipe`: the first thing a backend's start does. */
export function assertSupported(backend: ServerBackend, recipe: ServerRecipe): void {
  const reason = unsupportedBy(backend, recipe);
  if (reason !== undefined) throw new Unsupported(reason);
}

/**
 * The body every backend answers with: `ok <scenario> <protocol>[ client=<CN>]`. It tells the client what the
 * server negotiated and whom it authenticated, which fetch (it hides its socket) could not observe otherwise.
 */
export function successBody(scenarioId: string, protocol: string | null, clientCommonName: unknown): string {
  const client = typeof clientCommonName === 'string' ? ` client=${clientCommonName}` : '';
  return `ok ${scenarioId} ${protocol ?? 'unknown'}${client}\n`;
}
