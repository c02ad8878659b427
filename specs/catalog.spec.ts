import { expect } from 'chai';
import { FACT_NAMES, NODE_LINES, RUNNING, SCENARIOS, factsOf, lineOf } from '../harness/index.ts';
import { resolveScenario } from '../harness/catalog/evaluate.ts';
import { SERVER_BACKEND_NAMES, SERVER_BACKENDS } from '../harness/servers/index.ts';
import { itUnless } from './support/runner.ts';

// docs/CATALOG.md is rendered from the declarations resolved for each documented Node line (harness/facts.ts); the
// specs resolve them for the running Node. On a release of a documented line, both must be the same: this is what
// lets a run on each line (npm run test:matrix) prove the page.
describe('the catalog: declarations, facts and documented Node lines', () => {
  const line = lineOf(RUNNING);
  itUnless(
    line ? undefined : `Node ${RUNNING.node} is not a documented line (${NODE_LINES.map((l) => l.node).join(', ')})`,
    `Node ${RUNNING.node} (OpenSSL ${RUNNING.openssl}, undici ${RUNNING.undici}) has every fact its documented line ${line?.node ?? '?'} has`,
    () => {
      expect(factsOf(RUNNING)).to.deep.equal(factsOf(line ?? RUNNING));
    },
  );

  it(`every scenario resolves, for every documented line and every server program: ${FACT_NAMES.length} facts, ${NODE_LINES.length} lines`, () => {
    for (const scenario of SCENARIOS) {
      for (const runtime of NODE_LINES) {
        for (const backend of SERVER_BACKEND_NAMES)
          expect(() => resolveScenario(scenario, runtime, SERVER_BACKENDS[backend].software), scenario.id).to.not.throw();
      }
    }
  });
});
