import type { SecureVersion } from 'node:tls';
import { OK, perVersion, resolve, summary, type NodeResult, type ServerSees, type Startup } from '../expect.ts';
import { NODE_LINES, lineName } from '../facts.ts';
import { TOOL_KEYS, type Failure, type ToolResult } from '../expect-tools.ts';
import type { Runtime } from '../facts.ts';
import type { ExternalProbeName, ProbeName } from '../outcome.ts';
import { PROBE_NAMES } from '../probes/index.ts';
import type { NodeCase, Scenario } from '../scenario.ts';
import type { ServerSoftware } from '../servers/backend.ts';

/**
 * A scenario's declared outcomes, resolved for one runtime and one server program: what `catalog --json` prints and
 * docs/CATALOG.md renders, and exactly what the specs assert on that runtime.
 */

export const VERSIONS: readonly SecureVersion[] = ['TLSv1.3', 'TLSv1.2'];
export const TOOL_NAMES: readonly ExternalProbeName[] = ['curl', 'openssl s_client', 'python ssl'];

/** One case of a scenario, resolved: per TLS version (or `negotiated`), per probe. */
export interface ResolvedCase {
  /** The case's describe title; null for the scenario as declared. */
  title: string | null;
  fixed: boolean;
  /** The client options the case sets on top of the scenario's (names only; values may be PEMs or functions). */
  client: string[];
  outcomes: Partial<Record<SecureVersion | 'negotiated', Partial<Record<ProbeName, NodeResult>>>>;
  server?: Partial<Record<SecureVersion | 'negotiated', ServerSees>>;
}

export interface ResolvedScenario {
  id: string;
  cases: ResolvedCase[];
  /** What each external tool must print, as declared and with the fix applied; per pinned version where they differ. */
  tools: Record<'broken' | 'fixed', Partial<Record<ExternalProbeName, Partial<Record<SecureVersion | 'default', ToolResult<Failure>>>>>>;
  startup?: Record<ServerSoftware, Startup>;
}

function caseVersions(c: NodeCase): Array<SecureVersion | undefined> {
  return c.versions === 'negotiated' ? [undefined] : [...VERSIONS];
}

function resolveCase(c: NodeCase, runtime: Runtime, server: ServerSoftware): ResolvedCase {
  const outcomes: ResolvedCase['outcomes'] = {};
  const views: NonNullable<ResolvedCase['server']> = {};
  for (const version of caseVersions(c)) {
    const key = version ?? 'negotiated';
    outcomes[key] = Object.fromEntries(
      (c.probes ?? PROBE_NAMES).map((probe) => [probe, resolve(c.expect, { runtime, server, ...(version ? { version } : {}), probe })]),
    );
    const sees = c.server && resolve(c.server, { runtime, server, ...(version ? { version } : {}), probe: 'tls.connect' });
    if (sees !== undefined) views[key] = sees;
  }
  const client = typeof c.client === 'function' ? ['(from the scenario’s material)'] : Object.keys(c.client ?? {});
  return { title: c.title ?? null, fixed: c.fixed ?? false, client, outcomes, ...(Object.keys(views).length > 0 ? { server: views } : {}) };
}

function resolveTools(scenario: Scenario, runtime: Runtime, server: ServerSoftware, variant: 'broken' | 'fixed') {
  const tools: ResolvedScenario['tools']['broken'] = {};
  for (const tool of TOOL_NAMES) {
    const key = TOOL_KEYS[tool];
    const broken = scenario.tools[key];
    const brokenPerVersion = typeof broken === 'object' && broken.kind === 'per-version';
    const cell =
      variant === 'broken'
        ? broken
        : (scenario.tools.fixed?.[key] ?? (broken === undefined ? undefined : brokenPerVersion ? perVersion(OK, OK) : OK));
    if (cell === undefined) continue;
    const resolved = (version?: SecureVersion) => resolve<ToolResult<Failure>>(cell, { runtime, server, ...(version ? { version } : {}) });
    tools[tool] =
      typeof cell === 'object' && cell.kind === 'per-version'
        ? Object.fromEntries(VERSIONS.map((v) => [v, resolved(v)]))
        : { default: resolved() };
  }
  return tools;
}

/** Every case and tool of a scenario, resolved for `runtime` with `server` serving. */
export function resolveScenario(scenario: Scenario, runtime: Runtime, server: ServerSoftware = 'node'): ResolvedScenario {
  return {
    id: scenario.id,
    cases: scenario.node.map((c) => resolveCase(c, runtime, server)),
    tools: {
      broken: scenario.startup ? {} : resolveTools(scenario, runtime, server, 'broken'),
      fixed: resolveTools(scenario, runtime, server, 'fixed'),
    },
    ...(scenario.startup ? { startup: scenario.startup } : {}),
  };
}

/** One outcome that is not the same on every documented Node line. */
export interface LineDifference {
  scenario: string;
  /** The case's title (null: as declared), the pinned version or `negotiated`, the probe. */
  case: string | null;
  version: string;
  probe: ProbeName;
  /** Per Node line (`Node 20`…), the outcome in one line. */
  lines: Record<string, string>;
}

/** Every outcome that differs between the documented Node lines (NODE_LINES), for `catalog --versions` and the docs. */
export function lineDifferences(scenarios: readonly Scenario[], lines: readonly Runtime[] = NODE_LINES): LineDifference[] {
  const differences: LineDifference[] = [];
  for (const scenario of scenarios) {
    const perLine = lines.map((line) => resolveScenario(scenario, line));
    scenario.node.forEach((c, index) => {
      for (const version of caseVersions(c)) {
        for (const probe of c.probes ?? PROBE_NAMES) {
          const seen = perLine.map((resolved) => {
            const result = resolved.cases[index]?.outcomes[version ?? 'negotiated']?.[probe];
            return result ? summary(result, probe) : '—';
          });
          if (new Set(seen).size > 1) {
            differences.push({
              scenario: scenario.id,
              case: c.title ?? null,
              version: version ?? 'negotiated',
              probe,
              lines: Object.fromEntries(lines.map((line, i) => [lineName(line), seen[i] ?? '—'])),
            });
          }
        }
      }
    });
  }
  return differences;
}
