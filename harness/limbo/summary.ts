import type { LimboTestcase, TestcaseResult } from './model.ts';
import { skipFeatureOf } from './skips.ts';

/** How one result compares with what the case expects. */
export type Agreement = 'agree' | 'false-accept' | 'false-reject' | 'skipped';

export function agreement(testcase: Pick<LimboTestcase, 'expected_result'>, result: TestcaseResult): Agreement {
  if (result.actual_result === 'SKIPPED') return 'skipped';
  if (result.actual_result === testcase.expected_result) return 'agree';
  return result.actual_result === 'SUCCESS' ? 'false-accept' : 'false-reject';
}

export interface Summary {
  cases: number;
  agree: number;
  /** Accepted, but the case must fail. */
  falseAccept: number;
  /** Rejected, but the case must pass. */
  falseReject: number;
  skipped: number;
  /** SKIPPED results by the feature their context names first. */
  skippedBy: Record<string, number>;
  /** FAILURE results that are timeouts (their context starts with `timeout:`), counted in agree/false-reject too. */
  timeouts: number;
}

export function summarize(
  testcases: readonly Pick<LimboTestcase, 'id' | 'expected_result'>[],
  results: readonly TestcaseResult[],
): Summary {
  const byId = new Map(testcases.map((t) => [t.id, t]));
  const summary: Summary = { cases: results.length, agree: 0, falseAccept: 0, falseReject: 0, skipped: 0, skippedBy: {}, timeouts: 0 };
  for (const result of results) {
    const testcase = byId.get(result.id);
    if (!testcase) throw new Error(`a result for an unknown case: ${result.id}`);
    const kind = agreement(testcase, result);
    if (kind === 'agree') summary.agree++;
    else if (kind === 'false-accept') summary.falseAccept++;
    else if (kind === 'false-reject') summary.falseReject++;
    else {
      summary.skipped++;
      const feature = skipFeatureOf(result.context);
      summary.skippedBy[feature] = (summary.skippedBy[feature] ?? 0) + 1;
    }
    if (result.actual_result === 'FAILURE' && result.context?.startsWith('timeout:')) summary.timeouts++;
  }
  return summary;
}

/** `skipped 12 (max-chain-depth 5, no-peer-key 5, …)`, features by count, then by name. */
export function describeSkipped(summary: Summary): string {
  const parts = Object.entries(summary.skippedBy)
    .sort(([a, m], [b, n]) => n - m || a.localeCompare(b))
    .map(([feature, count]) => `${feature} ${count}`);
  return `skipped ${summary.skipped}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
}
