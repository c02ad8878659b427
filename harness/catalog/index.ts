/**
 * The catalog as data: every scenario's expected outcome per client, TLS version and Node line, and the Markdown
 * reference rendered from it (docs/CATALOG.md).
 *   import { SCENARIOS } from 'tls-harness';
 *   import { resolveScenario, RUNNING } from 'tls-harness/catalog';
 *   const { cases } = resolveScenario(SCENARIOS[0], RUNNING); // what each Node client does on this Node
 */
export {
  resolveScenario,
  lineDifferences,
  VERSIONS,
  TOOL_NAMES,
  type ResolvedCase,
  type ResolvedScenario,
  type LineDifference,
} from './evaluate.ts';
export { renderCatalog } from './render.ts';
export { FACTS, FACT_NAMES, NODE_LINES, RUNNING, factsOf, holds, lineOf, type FactName, type Runtime } from '../facts.ts';
