import { nodeBackend, startEndpoint, Unsupported, type Endpoint, type ServerBackend, type StartOptions } from '../../harness/index.ts';
import { SERVER_BACKEND, skipCurrentTest, type SuiteContext } from './backend.ts';

/**
 * Start the scenario's endpoint before the enclosing `describe` and close it after, also when a spec fails.
 * Returns an accessor, because the endpoint exists only once the `before` hook has run.
 *
 * The endpoint runs on the backend TLS_HARNESS_SERVER selects (support/backend.ts) unless `options.backend` names
 * one. A backend that cannot express the scenario (it throws Unsupported) leaves every test that uses the endpoint
 * pending, its title ending in the reason; so does a backend that cannot report the server's view (serverView).
 * Tests of the same describe that use another endpoint (e.g. the fix) still run.
 */
export function useEndpoint(id: string, options: StartOptions = {}): () => Endpoint {
  const backend = options.backend ?? SERVER_BACKEND;
  const start: Start = { id, backend, run: () => startEndpoint(id, { ...options, backend }) };
  starts.push(start);
  let endpoint: Endpoint | undefined;
  let wrapped: Endpoint | undefined;
  let unsupported: string | undefined;
  let context: SuiteContext | undefined;
  before(async function () {
    context = { runnable: () => this.runnable(), skip: () => this.skip() };
    startAhead(start);
    start.claimed = true;
    try {
      endpoint = await start.running;
    } catch (error) {
      if (!(error instanceof Unsupported)) throw error;
      unsupported = unsupportedReason(id, options, backend, error);
    }
  });
  after(async () => {
    await endpoint?.close();
    endpoint = undefined;
    wrapped = undefined;
  });
  return () => {
    if (unsupported !== undefined) skipCurrentTest(unsupported, context);
    if (!endpoint) throw new Error(`endpoint ${id} is not running (used outside its describe?)`);
    wrapped ??= pendingWithoutServerView(endpoint, backend.name);
    return wrapped;
  };
}

function unsupportedReason(id: string, options: StartOptions, backend: ServerBackend, error: Unsupported): string {
  return `${id}${options.fixed ? ' (fixed)' : ''} on ${backend.name}: ${error.message}`;
}

/**
 * startEndpoint on the specs' backend (TLS_HARNESS_SERVER) unless `options.backend` names one, for work that manages
 * its own endpoints (useEarly); an Unsupported names the scenario and the backend, as useEndpoint's pending title does.
 */
export async function startOnBackend(id: string, options: StartOptions = {}): Promise<Endpoint> {
  const backend = options.backend ?? SERVER_BACKEND;
  try {
    return await startEndpoint(id, { ...options, backend });
  } catch (error) {
    if (error instanceof Unsupported) throw new Unsupported(unsupportedReason(id, options, backend, error));
    throw error;
  }
}

/** The endpoint, whose serverView makes the running test pending when the backend reports no server events. */
function pendingWithoutServerView(endpoint: Endpoint, backend: string): Endpoint {
  return {
    ...endpoint,
    serverView: async (outcome, timeoutMs) => {
      try {
        return await endpoint.serverView(outcome, timeoutMs);
      } catch (error) {
        if (error instanceof Unsupported) skipCurrentTest(`the server's view on ${backend}: ${error.message}`);
        throw error;
      }
    },
  };
}

/**
 * Child-process servers (openssl, nginx) take 30–80 ms each to start, so each `before` hook also starts the next few
 * endpoints the specs declared, in declaration order (the order mocha runs their hooks in): they start in parallel,
 * and a hook usually finds its endpoint already listening. In-process node servers start in a few milliseconds and
 * are started one at a time, in their own hook, as before. An endpoint started ahead whose hook never runs (its
 * describe filtered out by --grep, or skipped) is closed at the end of the run.
 */
const AHEAD = 6;

interface Start {
  id: string;
  backend: ServerBackend;
  run(): Promise<Endpoint>;
  running?: Promise<Endpoint>;
  claimed?: boolean;
}

const starts: Start[] = [];

function startAhead(start: Start): void {
  const index = starts.indexOf(start);
  const window = start.backend === nodeBackend ? [start] : starts.slice(index, index + AHEAD);
  for (const next of window) {
    if (next.running) continue;
    next.running = next.run();
    next.running.catch(() => undefined); // a failure is reported by the hook that claims it, not as unhandled
  }
}

// Root hook (registered when this module is first imported): close what was started ahead and never claimed.
after(async () => {
  const unclaimed = starts.filter((start) => start.running && !start.claimed);
  await Promise.all(unclaimed.map((start) => start.running?.then((endpoint) => endpoint.close(), () => undefined)));
});
