/**
 * `npm run test:consumer [-- 22 24]`: the package as a user gets it, on every supported Node line.
 *
 * 1. `npm pack` (prepack builds dist/): the tarball must hold only the built package (dist/, bin/, stubs/, LICENSE,
 *    README.md, package.json) and no TypeScript source.
 * 2. An empty temp project installs the tarball, its dependencies from the local npm cache (`--prefer-offline`: `npm ci`
 *    put every tarball there; npm goes to the registry only for what the cache lacks, such as package metadata that
 *    `npm ci` never needed). Its tree must stay within the budget (≤ 30 packages, ≤ 15 MB), with no install scripts and
 *    none of the development-only packages (tsx, esbuild, testcontainers).
 * 3. A strict TypeScript consumer (scripts/consumer/strict.ts: strict, exactOptionalPropertyTypes,
 *    noUncheckedIndexedAccess, NodeNext, default settings otherwise) type-checks against the installed declarations.
 * 4. For each Node line (binaries as for test:matrix): scripts/consumer/check-package.mjs runs with plain `node`
 *    (expired-leaf through the three Node clients and Python, a fix, a child-process probe, the subpath exports);
 *    then the CLI through npx with that Node first on PATH: `--version`, `catalog --json`, `serve` answered by the
 *    shipped stubs/node.mjs and stopped by a SIGTERM to npx alone, `limbo` on `catalog --limbo`'s export (plus one
 *    case under faketime), and `check` with the same stub.
 *
 * Versions: the arguments, else TLS_HARNESS_NODE_VERSIONS, else 20 22 24 26. Exit code 1 if any check failed.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { findExecutable, isRunning } from '../harness/servers/child.ts';
import { ROOT, capture, obtainNode, parseVersions, type NodeBinary } from './node-lines.ts';

const MAX_PACKAGES = 30;
const MAX_BYTES = 15 * 1024 * 1024;
const SHIPPED = /^(dist\/|bin\/|stubs\/|LICENSE$|README\.md$|package\.json$)/;
const DEV_ONLY = ['tsx', 'esbuild', 'testcontainers', 'typescript', 'mocha', 'chai'];
const CHECKED_SCENARIOS = ['healthy', 'expired-leaf', 'wrong-host'];
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

let failures = 0;
function check(ok: boolean, what: string, detail = ''): void {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}${detail && !ok ? `\n       ${detail.trimEnd().split('\n').join('\n       ')}` : ''}`);
  if (!ok) failures += 1;
}

async function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 120_000) {
  const result = await capture(command, args, { cwd, timeoutMs, env });
  return { ...result, ok: result.code === 0 && result.error === undefined, output: `${result.stdout}${result.stderr}` };
}

function installedPackages(project: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      if (name.startsWith('.')) continue;
      if (name.startsWith('@')) {
        walk(path.join(dir, name));
        continue;
      }
      const folder = path.join(dir, name);
      if (existsSync(path.join(folder, 'package.json'))) found.push(folder);
      walk(path.join(folder, 'node_modules'));
    }
  };
  walk(path.join(project, 'node_modules'));
  return found;
}

function bytesIn(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function packAndInstall(work: string): Promise<string> {
  console.log('tarball');
  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], ROOT, process.env, 300_000);
  if (!packed.ok) throw new Error(`npm pack failed:\n${packed.output}`);
  const [tarball] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{
    filename: string;
    size: number;
    unpackedSize: number;
    files: Array<{ path: string }>;
  }>;
  if (!tarball) throw new Error('npm pack printed no tarball');
  const stray = tarball.files.map((f) => f.path).filter((p) => !SHIPPED.test(p) || (p.endsWith('.ts') && !p.endsWith('.d.ts')));
  check(
    stray.length === 0,
    `${tarball.files.length} files, ${megabytes(tarball.size)} packed, ${megabytes(tarball.unpackedSize)} unpacked; only the built package`,
    stray.join('\n'),
  );

  console.log('npm install <tarball> into an empty project, from the npm cache');
  const project = path.join(work, 'project');
  rmSync(project, { recursive: true, force: true });
  mkdirSync(project);
  writeFileSync(
    path.join(project, 'package.json'),
    `${JSON.stringify({ name: 'tls-harness-consumer', private: true, type: 'module' }, null, 2)}\n`,
  );
  const flags = ['--prefer-offline', '--no-audit', '--no-fund'];
  const installed = await run('npm', ['install', ...flags, path.join(work, tarball.filename)], project, process.env, 300_000);
  if (!installed.ok) throw new Error(`npm install of the tarball failed:\n${installed.output}`);
  const packages = installedPackages(project);
  const bytes = bytesIn(path.join(project, 'node_modules'));
  check(packages.length <= MAX_PACKAGES, `${packages.length} packages installed (at most ${MAX_PACKAGES})`);
  check(bytes <= MAX_BYTES, `${megabytes(bytes)} of files in node_modules (at most ${megabytes(MAX_BYTES)})`);
  const names = packages.map((folder) => (JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as { name: string }).name);
  const devOnly = names.filter((name) => DEV_ONLY.includes(name));
  check(devOnly.length === 0, `no development-only package (${DEV_ONLY.join(', ')})`, devOnly.join(', '));
  const scripted = packages.filter((folder) => {
    const { scripts = {} } = JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    return ['preinstall', 'install', 'postinstall'].some((hook) => hook in scripts);
  });
  check(scripted.length === 0, 'no install scripts', scripted.join('\n'));

  // The strict consumer also needs Node's types, as any TypeScript project on Node has them.
  // The same version as the repository's, whose tarball `npm ci` cached.
  const nodeTypes = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', '@types', 'node', 'package.json'), 'utf8')) as {
    version: string;
  };
  const types = await run('npm', ['install', ...flags, '--save-dev', `@types/node@${nodeTypes.version}`], project);
  if (!types.ok) throw new Error(`npm install @types/node failed:\n${types.output}`);
  for (const file of ['check-package.mjs', 'strict.ts', 'tsconfig.json']) {
    copyFileSync(path.join(ROOT, 'scripts', 'consumer', file), path.join(project, file));
  }
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const typed = await run(process.execPath, [tsc, '-p', project], project);
  check(
    typed.ok,
    'a strict TypeScript consumer type-checks (strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess, NodeNext)',
    typed.output,
  );
  return project;
}

/** `serve` through npx: answered by the shipped stub, then stopped by a SIGTERM to the npx process alone. */
async function serveThroughNpx(project: string, env: NodeJS.ProcessEnv, node: NodeBinary): Promise<void> {
  const npx = spawn('npx', ['--no', '--', 'tls-harness', 'serve', ...CHECKED_SCENARIOS, '--json'], { cwd: project, env, detached: true });
  let stdout = '';
  npx.stdout.setEncoding('utf8').on('data', (chunk: string) => void (stdout += chunk));
  npx.stderr.resume();
  const killAll = () => {
    try {
      process.kill(-(npx.pid as number), 'SIGKILL');
    } catch {
      // gone already
    }
  };
  let servePid: number | undefined;
  try {
    const started = performance.now();
    while (!stdout.includes('"ready":true') && npx.exitCode === null && performance.now() - started < 60_000) await delay(50);
    const lines = stdout
      .trimEnd()
      .split('\n')
      .map((line) => (parseJson(line) ?? {}) as Record<string, unknown>);
    const ready = (lines.at(-1) ?? {}) as { ready?: boolean; pid?: number; dir?: string };
    if (ready.ready !== true) throw new Error(`serve did not get ready: ${stdout}`);
    servePid = ready.pid;
    for (const entry of lines.slice(0, -1)) {
      const args = [path.join(project, 'node_modules', 'tls-harness', 'stubs', 'node.mjs'), String(entry.servername), String(entry.port)];
      const stub = await run(node.bin, [...args, String(entry.caFile)], project, { ...env, TLS_HARNESS_ADDRESS: String(entry.host) });
      const verdict = stub.stdout.trimEnd().split('\n').at(-1);
      const wanted = entry.expect === 'accept' ? 'ACCEPT' : 'REJECT';
      check(verdict === wanted, `serve ${String(entry.id)}: stubs/node.mjs prints ${wanted}`, stub.output);
    }
    npx.kill('SIGTERM');
    const sent = performance.now();
    while (servePid !== undefined && isRunning(servePid) && performance.now() - sent < 3000) await delay(50);
    const left = servePid !== undefined && isRunning(servePid);
    check(!left && !existsSync(String(ready.dir)), 'serve exits and removes its PEM directory after SIGTERM to npx alone');
  } finally {
    killAll();
    if (servePid !== undefined && isRunning(servePid)) killQuietly(servePid);
  }
}

/**
 * `catalog --limbo` then `limbo` on the export, through npx: every exported case runs, and the only disagreement is
 * cn-only (Node accepts a certificate that names the host in its CN alone; a strict client must not). One case is
 * copied with a validation_time ten years on, so that a faketime child runs the package's built limbo child.
 */
async function limboThroughNpx(project: string, env: NodeJS.ProcessEnv): Promise<void> {
  const exported = await run('npx', ['--no', '--', 'tls-harness', 'catalog', '--limbo'], project, env);
  const suite = parseJson(exported.stdout) as
    { testcases: Array<Record<string, unknown> & { id: string; expected_result: string }> } | undefined;
  const healthy = suite?.testcases.find((t) => t.id === 'tls-harness::control::healthy');
  if (suite === undefined || healthy === undefined) {
    check(
      false,
      'npx tls-harness catalog --limbo exports the catalog, tls-harness::control::healthy among it',
      exported.output.slice(0, 2000),
    );
    return;
  }
  const withFaketime = findExecutable('faketime') !== undefined || process.env.TLS_HARNESS_REQUIRE_TOOLS === '1';
  if (withFaketime) {
    const later = new Date(Date.now() + 3652 * 24 * 3600 * 1000).toISOString();
    suite.testcases.push({ ...healthy, id: 'consumer::healthy-in-ten-years', validation_time: later, expected_result: 'FAILURE' });
  } else {
    console.log('  SKIP the limbo case under faketime: faketime is not installed');
  }
  const file = path.join(project, 'limbo.json');
  writeFileSync(file, JSON.stringify(suite));
  const ran = await run('npx', ['--no', '--', 'tls-harness', 'limbo', file, '--json'], project, env);
  const { results = [] } = (parseJson(ran.stdout) ?? {}) as {
    results?: Array<{ id: string; actual_result: string; context: string }>;
  };
  const expected = new Map(suite.testcases.map((t) => [t.id, t.expected_result]));
  const disagree = results
    .filter((r) => r.actual_result !== expected.get(r.id))
    .map((r) => `${r.id} ${r.actual_result} ${r.context ?? ''}`);
  check(
    ran.ok &&
      results.length === suite.testcases.length &&
      disagree.length === 1 &&
      disagree[0]?.startsWith('tls-harness::hostname::cn-only SUCCESS') === true,
    `npx tls-harness limbo on catalog --limbo (${suite.testcases.length} cases${withFaketime ? ', one under faketime' : ''}): only cn-only disagrees`,
    ran.ok ? disagree.join('\n') : ran.output,
  );
}

/** JSON, or undefined for output that is not (the check that reads it then fails with the output as its detail). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

async function onNodeLine(project: string, node: NodeBinary): Promise<void> {
  console.log(`Node ${node.version} (OpenSSL ${node.openssl})`);
  // The Node line first on PATH: npx (npm itself, under this machine's Node) starts the bin through its
  // `#!/usr/bin/env node` line, so the CLI runs on the line under test.
  const env = { ...process.env, PATH: `${path.dirname(node.bin)}${path.delimiter}${process.env.PATH ?? ''}` };
  const imported = await run(node.bin, ['check-package.mjs'], project, env);
  check(imported.ok, "plain node imports 'tls-harness', 'tls-harness/certs' and 'tls-harness/catalog'", imported.output);
  if (imported.ok) console.log(imported.stdout.trimEnd().replace(/^/gm, '         '));

  // `--` ends npx's own options: without it, `npx --no tls-harness --version` prints npm's version.
  const version = await run('npx', ['--no', '--', 'tls-harness', '--version'], project, env);
  check(version.stdout === `${manifest.version}\n`, `npx tls-harness --version prints ${manifest.version}`, version.output);

  const catalog = await run('npx', ['--no', '--', 'tls-harness', 'catalog', '--json'], project, env);
  const parsed = (parseJson(catalog.stdout) ?? {}) as { node?: string; scenarios?: Array<{ id: string }> };
  const ids = parsed.scenarios?.map((s) => s.id) ?? [];
  check(
    catalog.ok && parsed.node === node.version && CHECKED_SCENARIOS.every((id) => ids.includes(id)),
    `npx tls-harness catalog --json: ${ids.length} scenarios, resolved for ${node.version}`,
    catalog.output.slice(0, 2000),
  );

  await serveThroughNpx(project, env, node);
  await limboThroughNpx(project, env);

  const stub = path.join(project, 'node_modules', 'tls-harness', 'stubs', 'node.mjs');
  const checked = await run(
    'npx',
    ['--no', '--', 'tls-harness', 'check', '--only', CHECKED_SCENARIOS.join(','), '--', node.bin, stub],
    project,
    env,
  );
  check(
    checked.ok && checked.stdout.trimEnd().endsWith(`${CHECKED_SCENARIOS.length} passed, 0 failed`),
    `npx tls-harness check --only ${CHECKED_SCENARIOS.join(',')} -- node stubs/node.mjs: ${CHECKED_SCENARIOS.length} passed`,
    checked.output,
  );
}

async function main(): Promise<number> {
  const versions = parseVersions(process.argv.slice(2), process.env);
  const work = mkdtempSync(path.join(tmpdir(), 'tls-harness-consumer-'));
  try {
    const project = await packAndInstall(work);
    for (const requested of versions) {
      await onNodeLine(project, await obtainNode(requested, process.env.TLS_HARNESS_NODE_REFRESH === '1'));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  console.log(failures === 0 ? 'consumer: every check passed' : `consumer: ${failures} check(s) failed`);
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main();
