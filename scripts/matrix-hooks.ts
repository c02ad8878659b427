/**
 * A mocha root-hook plugin that scripts/test-matrix.ts loads into each run (`--require scripts/matrix-hooks.ts`).
 *
 * mocha re-spawns itself with `process.execPath` to apply `.mocharc`'s `node-option`, and the specs start more
 * Node processes of their own, so the only trustworthy answer to "which Node ran the specs?" comes from inside the
 * run. This module reports it (process.version, process.versions.openssl, execPath) as soon as mocha loads it, then
 * the number of tests and each test's result as it ends, so the matrix can show live progress while mocha's json
 * reporter writes the full results to a file.
 *
 * Reports are single lines on stderr that start with MATRIX_MARKER; everything else on stderr is the specs' own.
 * It reports nothing unless MATRIX_ENV is '1', so importing it elsewhere (e.g. for its types) is harmless.
 */

export const MATRIX_MARKER = '\u0001tls-harness-matrix ';
export const MATRIX_ENV = 'TLS_HARNESS_MATRIX_REPORT';

export type TestState = 'passed' | 'failed' | 'pending';

export type MatrixEvent =
  | { event: 'runtime'; version: string; openssl: string; execPath: string }
  | { event: 'start'; total: number }
  | { event: 'test'; state: TestState; fullTitle: string };

const active = process.env[MATRIX_ENV] === '1';

function emit(event: MatrixEvent): void {
  // One write per line: on Linux, writes to a pipe are synchronous and, below PIPE_BUF, not interleaved.
  process.stderr.write(`${MATRIX_MARKER}${JSON.stringify(event)}\n`);
}

if (active) {
  // If the matrix stops reading (it was interrupted), a failed report must not become a failed test.
  process.stderr.on('error', () => undefined);
  emit({ event: 'runtime', version: process.version, openssl: process.versions.openssl ?? '', execPath: process.execPath });
}

export const mochaHooks: Mocha.RootHookObject = active
  ? {
      beforeAll(this: Mocha.Context) {
        // A root hook's parent is the root suite: total() counts every test that will run.
        emit({ event: 'start', total: this.test?.parent?.total() ?? 0 });
      },
      afterEach(this: Mocha.Context) {
        const test = this.currentTest;
        if (test === undefined) return;
        const state: TestState = test.state === 'passed' || test.state === 'failed' ? test.state : 'pending';
        emit({ event: 'test', state, fullTitle: test.fullTitle() });
      },
    }
  : {};
