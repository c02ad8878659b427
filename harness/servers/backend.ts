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

/** A way to run a ServerRecipe. Throws `Unsupported` for a recipe it cannot express faithfully. */
export interface ServerBackend {
  name: string;
  /** The program that serves: `container` runs nginx, so it behaves exactly as the `nginx` backend does. */
  software: ServerSoftware;
  start(scenario: Scenario, recipe: ServerRecipe): Promise<RunningServer>;
  /** Why the backend cannot run on this machine (its program is not installed), or undefined when it can. */
  unavailable?(): Promise<string | undefined>;
}

export class Unsupported extends Error {
  override name = 'Unsupported';
}

/**
 * The body every backend answers with: `ok <scenario> <protocol>[ client=<CN>]`. It tells the client what the
 * server negotiated and whom it authenticated, which fetch (it hides its socket) could not observe otherwise.
 */
export function successBody(scenarioId: string, protocol: string | null, clientCommonName: unknown): string {
  const client = typeof clientCommonName === 'string' ? ` client=${clientCommonName}` : '';
  return `ok ${scenarioId} ${protocol ?? 'unknown'}${client}\n`;
}
