import { Unsupported } from '../../harness/index.ts';
import { skipCurrentTest, type SuiteContext } from './backend.ts';

/**
 * Work that mostly waits — a child Node process (~0.6 s to start and probe), a timeout that has to pass — started
 * when the run starts instead of when mocha reaches its describe, so that it overlaps the in-process specs instead
 * of adding to them. The describe's `before` then only collects the result. The work must be self-contained: it
 * starts (and closes) its own endpoints, since the describe's own hooks have not run when it starts.
 *
 * An `Unsupported` from the work (the backend cannot serve a scenario it needs) leaves the describe's tests
 * pending with the reason, as useEndpoint does; any other error fails the `before` hook.
 */
export function useEarly<T>(work: () => Promise<T>): () => T {
  let running: Promise<T> | undefined;
  const start = (): Promise<T> => {
    if (!running) {
      running = work();
      running.catch(() => undefined); // reported by the describe's before hook, not as an unhandled rejection
    }
    return running;
  };
  early.push(start);
  let result: { value: T } | undefined;
  before(async function () {
    const context: SuiteContext = { runnable: () => this.runnable(), skip: () => this.skip() };
    try {
      result = { value: await start() };
    } catch (error) {
      if (error instanceof Unsupported) skipCurrentTest(error.message, context);
      throw error;
    }
  });
  return () => {
    if (!result) throw new Error('an early result was used outside its describe');
    return result.value;
  };
}

const early: Array<() => unknown> = [];

// Root hook (registered when this module is first imported): start every early piece of work at once.
before(() => {
  for (const start of early) start();
});
