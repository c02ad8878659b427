import { createSecureContext, type SecureVersion } from 'node:tls';
import { expect } from 'chai';
import {
  PROBE_NAMES,
  RUNNING,
  SCENARIOS,
  backendFromEnvironment,
  nodeBackend,
  probeInChildWithStderr,
  readStatusPage,
  resolve,
  scenarioMaterial,
  scenariosOf,
  startEndpoint,
  unsupportedBy,
  type ChildProbe,
  type ClientOptions,
  type Endpoint,
  type Family,
  type NodeCase,
  type NodeResult,
  type Outcome,
  type ProbeName,
  type Scenario,
  type ScenarioMaterial,
  type ServerBackend,
  type ServerEvent,
  type ServerRecipe,
  type ServerSees,
  type ServerSoftware,
} from '../../harness/index.ts';
import { messageMatches, nginxErrorPage, probeTitle, serverTitle, type Fails } from '../../harness/expect.ts';

/**
 * The one runner: it turns the scenario declarations (harness/scenarios/<family>.ts) into mocha tests. Per scenario a
 * describe `<id>: <title>`; in it, per TLS version a describe `over <version>`; in that, per case of the declaration
 * (a describe when the case has a title) one `it` per Node client, titled with the exact outcome, and one for the
 * server's view where the case states it. What the backend (TLS_HARNESS_SERVER) cannot serve is registered pending at
 * definition time, its reason in the title. The family spec files add only what a declaration cannot say.
 */

/** The backend the specs serve their scenarios with: TLS_HARNESS_SERVER (node when unset; an unknown name stops the run). */
export const SERVER_BACKEND = backendFromEnvironment();
export const SERVER_SOFTWARE: ServerSoftware = SERVER_BACKEND.software;

/** The protocol versions every scenario is probed over, newest first. */
export const TLS_VERSIONS: readonly SecureVersion[] = ['TLSv1.3', 'TLSv1.2'];

/** Pin both ends of the client's version range, so a test says exactly which protocol it is about. */
export function only(version: SecureVersion): { minVersion: SecureVersion; maxVersion: SecureVersion } {
  return { minVersion: version, maxVersion: version };
}

// ---- Materials: built before any test is defined ---------------------------------------------------------------

/**
 * Every scenario's certificates and settings. Defining the tests needs them — what a backend can serve is a property
 * of the recipe — and mocha defines tests synchronously, so a spec file awaits loadMaterials() (describeFamily does)
 * before it defines any (the PKI is built once per process anyway). A scenario whose setup throws becomes a failing
 * test, not a file that fails to load.
 */
export const MATERIALS = new Map<string, ScenarioMaterial | Error>();

let loading: Promise<void> | undefined;

export function loadMaterials(): Promise<void> {
  loading ??= Promise.all(
    SCENARIOS.map(async (s) => {
      const material = await scenarioMaterial(s).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
      MATERIALS.set(s.id, material);
    }),
  ).then(() => undefined);
  return loading;
}

/** A scenario's material, once loadMaterials() has built it. */
export function materialOf(id: string): ScenarioMaterial {
  const material = MATERIALS.get(id);
  if (!material || material instanceof Error) throw material ?? new Error(`no material for ${id}`);
  return material;
}

/** The recipe an endpoint of the scenario serves, as declared or fixed. */
export function recipeOf(material: ScenarioMaterial, fixed: boolean): ServerRecipe {
  return (fixed ? material.fixed?.server : undefined) ?? material.server;
}

/** The client an endpoint of the scenario starts with, as declared or fixed. */
export function clientOf(material: ScenarioMaterial, fixed: boolean): ClientOptions {
  return (fixed ? material.fixed?.client : undefined) ?? material.client;
}

// ---- Endpoints -------------------------------------------------------------------------------------------------------

/**
 * An endpoint the tests of one describe use: started in its `before` hook (or earlier, see AHEAD), closed in its
 * `after`, also when a test fails. `pending` is why the backend cannot serve it, known at definition time.
 */
export interface UsedEndpoint {
  (): Endpoint;
  pending: string | undefined;
}

/**
 * Child-process servers (openssl, nginx) take 30–80 ms each to start, so each `before` hook also starts the next few
 * endpoints declared, in declaration order (the order mocha runs their hooks in): they start in parallel, and a hook
 * usually finds its endpoint listening. In-process servers start in a few milliseconds, one at a time. An endpoint
 * started ahead whose hook never runs (filtered out by --grep) is closed at the end of the run.
 */
const AHEAD = 6;

interface Start {
  run(): Promise<Endpoint>;
  backend: ServerBackend;
  running?: Promise<Endpoint>;
  claimed?: boolean;
}

const starts: Start[] = [];

function startAhead(start: Start): void {
  const index = starts.indexOf(start);
  const window = start.backend === nodeBackend ? [start] : starts.slice(index, index + AHEAD);
  for (const next of window) {
    if (next.running || next.claimed) continue;
    next.running = next.run();
    next.running.catch(() => undefined); // reported by the hook that claims it
  }
}

// Root hook: close what was started ahead and never claimed.
after(async () => {
  const unclaimed = starts.filter((start) => start.running && !start.claimed);
  await Promise.all(
    unclaimed.map((start) =>
      start.running?.then(
        (endpoint) => endpoint.close(),
        () => undefined,
      ),
    ),
  );
});

/** The endpoint of scenario `id` (with its fix applied, if `fixed`), for the enclosing describe. */
export function useEndpoint(id: string, options: { fixed?: boolean; backend?: ServerBackend } = {}): UsedEndpoint {
  const backend = options.backend ?? SERVER_BACKEND;
  const fixed = options.fixed ?? false;
  const material = MATERIALS.get(id);
  const reason = material && !(material instanceof Error) ? unsupportedBy(backend, recipeOf(material, fixed)) : undefined;
  const pending = reason === undefined ? undefined : `${id}${fixed ? ' (fixed)' : ''} on ${backend.name}: ${reason}`;
  let endpoint: Endpoint | undefined;
  if (pending === undefined) {
    const start: Start = { backend, run: () => startEndpoint(id, { fixed, backend }) };
    starts.push(start);
    before(async () => {
      startAhead(start);
      start.claimed = true;
      endpoint = await start.running;
    });
    after(async () => {
      // Closes what the `before` started even when the hook timed out before its endpoint was listening.
      endpoint = undefined;
      await start.running?.then(
        (running) => running.close(),
        () => undefined,
      );
    });
  }
  const use = () => {
    if (!endpoint) throw new Error(`endpoint ${id} is not running (${pending ?? 'used outside its describe?'})`);
    return endpoint;
  };
  return Object.assign(use, { pending });
}

/** `it`, or — when `pending` says why it cannot run here — the same test registered pending with the reason in its title. */
export function itUnless(pending: string | undefined, title: string, test: Mocha.Func | Mocha.AsyncFunc): void {
  if (pending === undefined) it(title, test);
  else it(`${title} — pending: ${pending}`);
}

/**
 * `it` for what needs a program this machine may not have: registered pending with `missing` as the reason — or, with
 * TLS_HARNESS_REQUIRE_TOOLS=1 (CI, where everything must run), failing with it.
 */
export function itNeeds(missing: string | undefined, title: string, test: Mocha.Func | Mocha.AsyncFunc): void {
  if (missing !== undefined && process.env.TLS_HARNESS_REQUIRE_TOOLS === '1') {
    it(title, () => {
      throw new Error(`${missing}, and TLS_HARNESS_REQUIRE_TOOLS=1`);
    });
  } else {
    itUnless(missing, title, test);
  }
}

// ---- Assertions ------------------------------------------------------------------------------------------------------

/** A one-line description of an outcome, for assertion messages. */
export function explain(outcome: Outcome | ServerEvent): string {
  const { error: _error, ...rest } = outcome as Outcome;
  return JSON.stringify(rest);
}

/**
 * A success response's body in the node backend's form, `ok <scenario> <protocol>[ client=<CN>]\n` (successBody). The
 * node and nginx backends answer with exactly that line. openssl s_server can only answer with its `-www` status page,
 * which carries the same three facts — its command line names the scenario's certificate file, its session dump the
 * negotiated protocol, and it prints the client certificate — so the page is read back into that line.
 */
function successLine(body: string | undefined, software: ServerSoftware): string | undefined {
  if (body === undefined || software !== 'openssl') return body;
  return readStatusPage(body) ?? body;
}

/**
 * Assert the exact failure: code, message and phase; for fetch, `TypeError: fetch failed` with them on `cause`, always in
 * phase `request` — fetch hides its socket, so a phase a shared expectation declares speaks of the socket probes.
 */
export function expectFailure(outcome: Outcome, expected: Fails): void {
  const why = explain(outcome);
  expect(outcome.ok, why).to.equal(false);
  if (outcome.probe === 'fetch' && expected.unwrapped !== undefined) {
    const seen = { errorName: outcome.errorName, code: outcome.code, cause: outcome.cause, phase: outcome.phase };
    expect(seen, why).to.deep.equal({ errorName: expected.unwrapped, code: expected.code, cause: undefined, phase: 'request' });
    expect(messageMatches(outcome.message, expected.message), `message of ${why}`).to.equal(true);
    return;
  }
  const error = outcome.probe === 'fetch' ? outcome.cause : { code: outcome.code, message: outcome.message ?? '' };
  if (outcome.probe === 'fetch')
    expect({ errorName: outcome.errorName, message: outcome.message }, why).to.deep.equal({
      errorName: 'TypeError',
      message: 'fetch failed',
    });
  expect(error?.code, why).to.equal(expected.code);
  expect(messageMatches(error?.message, expected.message), `message of ${why}`).to.equal(true);
  expect(outcome.phase, why).to.equal(outcome.probe === 'fetch' ? 'request' : (expected.phase ?? 'handshake'));
}

/** Assert exactly what `probe` must observe of the scenario's endpoint: a failure, a success, or an HTTP error page. */
export function expectResult(outcome: Outcome, result: NodeResult, endpoint: Endpoint, version: SecureVersion | undefined): void {
  if (result.kind === 'fails') return expectFailure(outcome, result);
  const why = explain(outcome);
  const protocol = result.kind === 'ok' ? (result.over ?? version) : version;
  if (result.kind === 'http') {
    const body = result.nginxPage !== undefined ? nginxErrorPage(result.status, result.nginxPage) : result.body;
    const seen = { ok: outcome.ok, phase: outcome.phase, status: outcome.status, protocol: outcome.protocol, body: outcome.body };
    // fetch hides its socket, so only the socket probes know the protocol.
    expect(seen, why).to.deep.equal({
      ok: true,
      phase: 'response',
      status: result.status,
      protocol: outcome.probe === 'fetch' ? undefined : protocol,
      body,
    });
    return;
  }
  const client = result.as === undefined ? '' : ` client=${result.as}`;
  const seen = { ok: outcome.ok, phase: outcome.phase, status: outcome.status, body: successLine(outcome.body, endpoint.software) };
  expect(seen, why).to.deep.equal({
    ok: true,
    phase: 'response',
    status: 200,
    body: `ok ${endpoint.scenario.id} ${protocol ?? 'TLSv1.3'}${client}\n`,
  });
  // The verdict the socket probes record: verified, or — with verification off — the error they were told to ignore.
  // fetch has no socket to look at: nothing tells the application either way.
  const verdict = { authorized: outcome.authorized, authorizationError: outcome.authorizationError };
  const recorded =
    result.unverified === undefined
      ? { authorized: true, authorizationError: undefined }
      : { authorized: false, authorizationError: result.unverified };
  expect(verdict, why).to.deep.equal(outcome.probe === 'fetch' ? { authorized: undefined, authorizationError: undefined } : recorded);
}

/** Assert what the server reports of the connection `outcome` made. */
function expectServerView(event: ServerEvent, sees: ServerSees, outcome: Outcome, version: SecureVersion | undefined): void {
  const why = explain(event);
  if (sees.kind === 'secure') {
    const expected = {
      kind: 'secure',
      protocol: version,
      authorized: sees.authorized,
      authorizationError: sees.authorizationError,
      peerCommonName: sees.peer,
      clientPort: outcome.localPort,
    };
    expect(event, why).to.deep.equal(expected);
    return;
  }
  expect(event.kind, why).to.equal('tls-client-error');
  if (event.kind !== 'tls-client-error') return;
  const { message, ...rest } = event;
  expect(rest, why).to.deep.equal({
    kind: 'tls-client-error',
    code: sees.code,
    ...(sees.authorizationError !== undefined ? { authorizationError: sees.authorizationError } : {}),
    clientPort: outcome.localPort,
  });
  expect(messageMatches(message, sees.message), `message of ${why}`).to.equal(true);
}

// ---- The runner --------------------------------------------------------------------------------------------------

/** What a family spec file gets to add to a scenario's tests: the endpoints, and where it is. */
export interface ScenarioContext {
  scenario: Scenario;
  material: ScenarioMaterial;
  broken: UsedEndpoint;
  fixed: UsedEndpoint | undefined;
}

export interface VersionContext extends ScenarioContext {
  version: SecureVersion;
  /** What `probe` must observe of the scenario as declared, over this version, here (this Node, this server). */
  expected(probe: ProbeName): NodeResult;
}

/**
 * Tests a family spec file adds to a scenario: inside each `over <version>` describe, and once after them; `first`
 * runs before the scenario's endpoints are declared, for hooks that must see them start.
 */
export interface Extra {
  first?(): void;
  each?(context: VersionContext): void;
  once?(context: ScenarioContext): void;
}

/**
 * Every scenario of `family`, as tests; `extras` adds, per scenario id, what the declaration cannot say. A spec file
 * awaits it at its top level: the scenarios' material is built first.
 */
export async function describeFamily(family: Family, extras: Record<string, Extra> = {}): Promise<void> {
  await loadMaterials();
  describe(family, () => {
    for (const scenario of scenariosOf(family)) describeScenario(scenario, extras[scenario.id]);
  });
  const unknown = Object.keys(extras).filter((id) => !scenariosOf(family).some((s) => s.id === id));
  if (unknown.length > 0) throw new Error(`extras for scenarios that are not in ${family}: ${unknown.join(', ')}`);
}

function describeScenario(scenario: Scenario, extra: Extra | undefined): void {
  describe(`${scenario.id}: ${scenario.title}`, () => {
    try {
      defineScenarioTests(scenario, extra);
    } catch (error) {
      // A declaration that does not resolve (a per-version expectation without a version…) fails here, by name.
      it('is declared so that every case resolves', () => {
        throw error;
      });
    }
  });
}

function defineScenarioTests(scenario: Scenario, extra: Extra | undefined): void {
  const material = MATERIALS.get(scenario.id);
  if (!material || material instanceof Error) {
    it('builds its certificates and settings', () => {
      throw material ?? new Error(`no material for ${scenario.id}`);
    });
    return;
  }
  extra?.first?.();
  if (scenario.startup) describeStartup(scenario, material);
  const broken = scenario.startup ? undefined : useEndpoint(scenario.id);
  const fixed = scenario.node.some((c) => c.fixed) ? useEndpoint(scenario.id, { fixed: true }) : undefined;
  const context: ScenarioContext = { scenario, material, broken: broken ?? unstartable(scenario.id), fixed };
  const endpointOf = (c: NodeCase) => (c.fixed ? fixed : broken);
  const early = earlyRuns(scenario, material, endpointOf);

  for (const c of scenario.node.filter((c) => c.versions === 'negotiated')) describeCase(c, undefined, endpointOf(c), early);
  if (scenario.node.some((c) => c.versions !== 'negotiated') || extra?.each) {
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        for (const c of scenario.node.filter((c) => c.versions !== 'negotiated')) describeCase(c, version, endpointOf(c), early);
        const asDeclared = scenario.node.find((c) => !c.fixed && !c.client);
        extra?.each?.({
          ...context,
          version,
          expected: (probe) => {
            if (!asDeclared) throw new Error(`${scenario.id} declares no case for its client as it is`);
            return resolve(asDeclared.expect, { runtime: RUNNING, server: SERVER_SOFTWARE, version, probe });
          },
        });
      });
    }
  }
  extra?.once?.(context);
}

function unstartable(id: string): UsedEndpoint {
  return Object.assign(
    () => {
      throw new Error(`${id}: its server does not start`);
    },
    { pending: undefined },
  );
}

/** One case: an `it` per probe (and one for the server's view), inside a describe when the case has a title. */
function describeCase(c: NodeCase, version: SecureVersion | undefined, endpoint: UsedEndpoint | undefined, early: EarlyRuns): void {
  const body = () => {
    if (!endpoint) throw new Error(`a case of a scenario whose server does not start: ${c.title ?? '(as declared)'}`);
    for (const probe of c.probes ?? PROBE_NAMES) {
      const result = resolve(c.expect, { runtime: RUNNING, server: SERVER_SOFTWARE, version, probe });
      itUnless(endpoint.pending, probeTitle(probe, result, version), async () => {
        const outcome = (await early.outcome(c, probe, version)) ?? (await endpoint().probe(probe, caseOptions(c, endpoint, version)));
        expectResult(outcome, result, endpoint(), version);
      });
    }
    const sees = c.server && resolve(c.server, { runtime: RUNNING, server: SERVER_SOFTWARE, version, probe: 'tls.connect' });
    if (sees !== undefined) {
      const cannot = endpoint.pending ?? serverViewPending();
      itUnless(cannot, serverTitle(sees), async () => {
        const outcome = await endpoint().probe('tls.connect', caseOptions(c, endpoint, version));
        expectServerView(await endpoint().serverView(outcome), sees, outcome, version);
      });
    }
  };
  if (c.title === undefined) body();
  else describe(c.title, body);
}

/** Why `backend` cannot show the server's view of a connection, as a pending reason; undefined when it can. */
export function serverViewPending(backend: ServerBackend = SERVER_BACKEND): string | undefined {
  const reason = backend.lacks['server-events'];
  return reason === undefined ? undefined : `the server's view on ${backend.name}: ${typeof reason === 'string' ? reason : 'not reported'}`;
}

/** The client options a case adds to its endpoint's. */
export function caseClient(c: NodeCase, material: ScenarioMaterial): ClientOptions {
  return typeof c.client === 'function' ? c.client(material) : (c.client ?? {});
}

/** The client options of a case over a version: the version pinned (unless negotiated), then the case's own. */
function caseOptions(c: NodeCase, endpoint: UsedEndpoint, version: SecureVersion | undefined): ClientOptions {
  return { ...(version ? only(version) : {}), ...caseClient(c, materialOf(endpoint().scenario.id)) };
}

// ---- Cases that mostly wait: a child process, a server that never answers --------------------------------------

interface EarlyRuns {
  outcome(c: NodeCase, probe: ProbeName, version: SecureVersion | undefined): Promise<Outcome | undefined>;
}

interface EarlyResult {
  outcomes: Map<string, Outcome>;
  /** What the child processes wrote on stderr (what Node prints about the environment it was given). */
  stderr: string;
}

const earlyWork = new Map<string, Promise<EarlyResult>>();

/** The stderr of the child process that ran the scenario's cases with an environment of their own. */
export async function childStderr(id: string): Promise<string> {
  const run = earlyWork.get(id);
  if (!run) throw new Error(`${id} has no cases that run in a child process`);
  return (await run).stderr;
}

/**
 * Cases whose client runs with an environment of its own (a child Node process, ~0.4 s of CPU to start) and cases
 * against a server that never answers (each probe waits out its timeout) run as soon as their scenario's tests are
 * defined, all their probes at once, instead of when mocha reaches them: the waiting overlaps the loading of the other
 * spec files and the other tests. Their tests only collect the outcome. The work starts its own endpoints, since the
 * describe's hooks have not run yet.
 */
function earlyRuns(scenario: Scenario, material: ScenarioMaterial, endpointOf: (c: NodeCase) => UsedEndpoint | undefined): EarlyRuns {
  const waits = (c: NodeCase) => {
    const client = { ...clientOf(material, c.fixed ?? false), ...caseClient(c, material) };
    return client.env !== undefined || recipeOf(material, c.fixed ?? false).behaviour === 'silent';
  };
  const cases = scenario.node.filter((c) => waits(c) && endpointOf(c)?.pending === undefined);
  if (cases.length === 0) return { outcome: () => Promise.resolve(undefined) };
  const key = (c: NodeCase, probe: ProbeName, version: SecureVersion | undefined) =>
    `${scenario.node.indexOf(c)} ${probe} ${version ?? ''}`;
  const running = (async (): Promise<EarlyResult> => {
    const endpoints = new Map<boolean, Endpoint>();
    try {
      for (const fixed of new Set(cases.map((c) => c.fixed ?? false)))
        endpoints.set(fixed, await startEndpoint(scenario, { fixed, backend: SERVER_BACKEND }));
      const plan = cases.flatMap((c) =>
        (c.versions === 'negotiated' ? [undefined] : TLS_VERSIONS).flatMap((version) =>
          (c.probes ?? PROBE_NAMES).map((probe) => {
            const endpoint = endpoints.get(c.fixed ?? false) as Endpoint;
            const options = { ...endpoint.clientOptions(), ...(version ? only(version) : {}), ...caseClient(c, material) };
            return { key: key(c, probe, version), probe, endpoint, options };
          }),
        ),
      );
      const result: EarlyResult = { outcomes: new Map(), stderr: '' };
      // One child per environment: every probe that needs it in one process.
      const byEnvironment = new Map<string, typeof plan>();
      for (const step of plan) {
        const env = JSON.stringify(step.options.env ?? null);
        byEnvironment.set(env, [...(byEnvironment.get(env) ?? []), step]);
      }
      await Promise.all(
        [...byEnvironment].map(async ([env, steps]) => {
          if (env === 'null') {
            const outcomes = await Promise.all(steps.map((step) => step.endpoint.probe(step.probe, step.options)));
            steps.forEach((step, index) => result.outcomes.set(step.key, outcomes[index] as Outcome));
            return;
          }
          const probes: ChildProbe[] = steps.map(({ probe, endpoint, options }) => {
            const { env: _env, checkServerIdentity: _none, ...serializable } = options;
            return { probe, target: { host: endpoint.host, port: endpoint.port }, options: serializable };
          });
          const child = await probeInChildWithStderr(probes, JSON.parse(env) as NonNullable<ClientOptions['env']>);
          steps.forEach((step, index) => result.outcomes.set(step.key, child.outcomes[index] as Outcome));
          result.stderr += child.stderr;
        }),
      );
      return result;
    } finally {
      await Promise.all([...endpoints.values()].map((endpoint) => endpoint.close()));
    }
  })();
  running.catch(() => undefined); // reported by the tests that use it
  earlyWork.set(scenario.id, running);
  return {
    outcome: async (c, probe, version) => (cases.includes(c) ? (await running).outcomes.get(key(c, probe, version)) : undefined),
  };
}

// ---- A server that never starts ------------------------------------------------------------------------------------

/**
 * The scenario's outcome is the error the server throws at start-up: https.createServer builds its secure context
 * synchronously, so the error reaches whoever creates the server — startEndpoint, which rejects with it before anything
 * listens. No client is involved. (Other server programs: specs/server-differences.spec.ts.)
 */
function describeStartup(scenario: Scenario, material: ScenarioMaterial): void {
  const startup = scenario.startup?.node;
  if (startup?.kind !== 'throws') throw new Error(`${scenario.id}: a Node server that does not start throws`);
  const expected = { name: 'Error', code: startup.code, message: startup.message };
  it(`the server does not start: https.createServer throws ${startup.code}: '${startup.message}'`, async () => {
    const error: unknown = await startEndpoint(scenario).then(
      async (endpoint) => (await endpoint.close(), undefined),
      (thrown: unknown) => thrown,
    );
    expect(errorSummary(error)).to.deep.equal(expected);
  });
  it(`tls.createSecureContext with the same key and certificate throws the same ${startup.code}`, async () => {
    const [leaf] = material.server.chain;
    const options = { key: leaf?.keyPem, cert: material.server.chain.map((c) => c.certPem).join(''), ...material.server.raw };
    expect(errorSummary(thrownBy(() => createSecureContext(options)))).to.deep.equal(expected);
  });
}

/** An error reduced to what a start-up spec asserts. */
export function errorSummary(error: unknown): { name: string; code: string | undefined; message: string } {
  expect(error).to.be.instanceOf(Error);
  const e = error as Error & { code?: string };
  return { name: e.name, code: e.code, message: e.message };
}

/** The error `action` throws (the assertion fails if it throws none). */
export function thrownBy(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`threw a non-Error: ${String(error)}`, { cause: error });
  }
  throw new Error('expected an error, none was thrown');
}
