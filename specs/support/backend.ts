import { backendFromEnvironment, readStatusPage, type ServerBackendName, type ServerSoftware } from '../../harness/index.ts';

/**
 * The server backend the specs serve their scenarios with: TLS_HARNESS_SERVER=node|openssl|nginx|container (node when
 * unset; an unknown name stops the run here, at load time). Expectations that differ between servers are keyed on
 * SERVER_SOFTWARE — the program that serves, so the container backend (nginx in a container) is held to exactly what
 * nginx does — next to a sentence that says why.
 */
export const SERVER_BACKEND = backendFromEnvironment();
export const SERVER_BACKEND_NAME = SERVER_BACKEND.name as ServerBackendName;
export const SERVER_SOFTWARE: ServerSoftware = SERVER_BACKEND.software;

/**
 * A success response's body in the node backend's form, `ok <scenario> <protocol>[ client=<CN>]\n` (successBody).
 * The node and nginx backends answer with exactly that line. openssl s_server can only answer with its `-www`
 * status page, which carries the same three facts — its command line names the scenario's certificate file, its
 * session dump the negotiated protocol, and it prints the client certificate — so the page is read back into that
 * line (readStatusPage); a page it cannot read stays as it was, and the assertion shows it.
 */
export function successLine(body: string | undefined, software: ServerSoftware = SERVER_SOFTWARE): string | undefined {
  if (body === undefined || software !== 'openssl') return body;
  return readStatusPage(body) ?? body;
}

let currentTest: Mocha.Test | undefined;
// Root hooks (registered when this module is first imported): which test is running, for skipCurrentTest.
beforeEach(function () {
  currentTest = this.currentTest;
});
afterEach(function () {
  currentTest = undefined;
});

/** What skipCurrentTest needs of a describe's mocha context: its current runnable, and skipping it. */
export interface SuiteContext {
  runnable(): Mocha.Runnable | undefined;
  skip(): never;
}

/**
 * Make the running test pending, with `reason` appended to its title so that the reporters show why (a plain
 * `this.skip()` shows only the title). For a backend that cannot express what the test needs: the test stops here.
 * Called from a `before` hook instead, it skips that hook — mocha then marks every test of the hook's describe,
 * nested ones included, pending, and each title gets the reason. `context` is the describe's mocha context (a hook
 * has no other way to be found); without it, or for a hook of a nested describe, it fails loudly.
 */
export function skipCurrentTest(reason: string, context?: SuiteContext): never {
  const test = currentTest;
  if (test) {
    test.title = `${test.title} — pending: ${reason}`;
    return test.skip();
  }
  const hook = context?.runnable();
  // A runnable that is still running has no duration yet; a finished one is not the caller.
  if (context && hook && (hook as { type?: string }).type === 'hook' && hook.duration === undefined && hook.parent) {
    markPending(hook.parent, reason);
    return context.skip();
  }
  throw new Error(`cannot mark this hook pending: ${reason}`);
}

function markPending(suite: Mocha.Suite, reason: string): void {
  for (const test of suite.tests) test.title = `${test.title} — pending: ${reason}`;
  for (const child of suite.suites) markPending(child, reason);
}

/**
 * `it` for what only some backends can show (e.g. a Node server's process warning); on the others it is registered
 * pending, with `why` in its title.
 */
export function itOnServers(servers: readonly ServerSoftware[], title: string, why: string, fn: Mocha.AsyncFunc | Mocha.Func): void {
  if (servers.includes(SERVER_SOFTWARE)) it(title, fn);
  else it(`${title} — pending on ${SERVER_BACKEND_NAME}: ${why}`);
}
