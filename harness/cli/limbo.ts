import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { LimboFormatError, harnessName, parseLimbo, type LimboFile, type LimboResults } from '../limbo/model.ts';
import { DEFAULT_CASE_TIMEOUT_MS } from '../limbo/lanes.ts';
import { DEFAULT_JOBS, runLimbo } from '../limbo/runner.ts';
import { findExecutable } from '../servers/child.ts';
import { agreement, describeSkipped, summarize } from '../limbo/summary.ts';
import { SKIP_FEATURES } from '../limbo/skips.ts';
import { parseCount, parseSeconds, table } from './args.ts';
import { UsageError } from './errors.ts';
import type { Io } from './io.ts';

export const LIMBO_HELP = `Usage: tls-harness limbo <limbo.json> [--json] [--out FILE] [--only IDS] [--jobs N] [--timeout S]

Run an x509-limbo test suite (C2SP/x509-limbo's limbo.json) against Node's TLS stack: every case is a real handshake
on 127.0.0.1. SERVER cases: a Node server presents peer_certificate (with peer_certificate_key) and the
untrusted_intermediates; tls.connect trusts exactly trusted_certs (ca), checks the crls (crl) and the expected name
(a DNS name as servername; an IP through tls.checkServerIdentity; no name: no name check). CLIENT cases: the same
chain is a client certificate, judged by a Node server with requestCert: true, rejectUnauthorized: false that trusts
trusted_certs (socket.authorized / authorizationError). Cases with a validation_time run in a child Node process whose
clock faketime (libfaketime) froze at that time, one child per time; without faketime they are SKIPPED.

Each case is SUCCESS, FAILURE (context: Node's error code and message; a case that reaches the time limit is a
FAILURE whose context starts with "timeout:") or SKIPPED (context: "<feature>: <reason>", for what Node cannot be
told), by feature:
  ${SKIP_FEATURES.slice(0, 5).join(', ')},
  ${SKIP_FEATURES.slice(5).join(', ')}.

Options:
  --json        print x509-limbo's result format { version, harness, results: [{ id, actual_result, context }] },
                harness = node-<version>-openssl-<version>
  --out FILE    write that result file as well
  --only IDS    only these case ids (comma-separated; repeatable)
  --jobs N      lanes that run handshakes side by side, each with its own two servers, in this process and in each
                helper process (one per CPU beyond the first, at most 3, for suites of 100 cases or more; taking cases from the same queue); default ${DEFAULT_JOBS}
  --timeout S   seconds one case may take; default ${DEFAULT_CASE_TIMEOUT_MS / 1000}
  -h, --help    show this help

Without --json: one line per case (agree, FALSE ACCEPT, FALSE REJECT, skipped), then the summary — agreed,
accepted but must fail, rejected but must pass, skipped by reason, and the cases per second of those run at the
current time (from the first to the last, helper start-up included).
Exit code 0 when the suite ran (whatever Node's results), 2 on bad input (an unreadable or malformed file, an
unknown id, a bad option).
`;

export async function limboCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean' },
      out: { type: 'string' },
      only: { type: 'string', multiple: true },
      jobs: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.out(LIMBO_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one limbo file: tls-harness limbo <limbo.json> [options]');
  const path = positionals[0] as string;
  const jobs = values.jobs === undefined ? DEFAULT_JOBS : parseCount(values.jobs, '--jobs');
  const timeoutMs = values.timeout === undefined ? DEFAULT_CASE_TIMEOUT_MS : parseSeconds(values.timeout, '--timeout') * 1000;
  const limbo = await readLimbo(path);
  const testcases = selectCases(limbo, values.only ?? []);

  const report = await runLimbo(testcases, { jobs, timeoutMs, faketime: findExecutable('faketime') });
  const output: LimboResults = { version: 1, harness: harnessName(), results: report.results };
  if (values.out !== undefined) {
    try {
      await writeFile(values.out, `${JSON.stringify(output, null, 2)}\n`);
    } catch (error) {
      throw new UsageError(`cannot write ${values.out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  if (values.json) {
    io.out(`${JSON.stringify(output, null, 2)}\n`);
    return 0;
  }
  const byId = new Map(testcases.map((t) => [t.id, t]));
  const label = { agree: 'agree', 'false-accept': 'FALSE ACCEPT', 'false-reject': 'FALSE REJECT', skipped: 'skipped' } as const;
  io.out(
    table(
      ['', 'ID', 'EXPECTED', 'ACTUAL', 'CONTEXT'],
      report.results.map((r) => {
        const testcase = byId.get(r.id);
        if (!testcase) throw new Error(`a result for an unknown case: ${r.id}`);
        return [label[agreement(testcase, r)], r.id, testcase.expected_result, r.actual_result, r.context ?? ''];
      }),
    ),
  );
  const summary = summarize(testcases, report.results);
  const rate = report.now.seconds > 0 ? report.now.cases / report.now.seconds : 0;
  io.out(
    [
      '',
      `${output.harness}: ${summary.cases} cases — agreed ${summary.agree}, accepted but must fail ${summary.falseAccept}, ` +
        `rejected but must pass ${summary.falseReject}, ${describeSkipped(summary)}` +
        (summary.timeouts > 0 ? `; ${summary.timeouts} FAILURE(s) are timeouts` : ''),
      `${report.now.cases} handshakes at the current time in ${report.now.seconds.toFixed(2)} s: ${rate.toFixed(0)} cases/s ` +
        `(--jobs ${jobs}; ${report.now.byHelpers} of them in ${report.now.helpers} helper process(es))` +
        (report.faketime.cases > 0
          ? `; ${report.faketime.cases} under faketime in ${report.faketime.groups} child processes, ${report.faketime.seconds.toFixed(2)} s`
          : ''),
      '',
    ].join('\n'),
  );
  return 0;
}

async function readLimbo(path: string): Promise<LimboFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return parseLimbo(text);
  } catch (error) {
    if (error instanceof LimboFormatError) throw new UsageError(`${path}: ${error.message}`);
    throw error;
  }
}

/** The cases named by --only, in the file's order; every case when none is named. An unknown id is a usage error. */
function selectCases(limbo: LimboFile, only: readonly string[]): LimboFile['testcases'] {
  const ids = only
    .flatMap((arg) => arg.split(','))
    .map((id) => id.trim())
    .filter((id) => id !== '');
  if (ids.length === 0) return limbo.testcases;
  const known = new Set(limbo.testcases.map((t) => t.id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length > 0) throw new UsageError(`no such case in the file: ${unknown.join(', ')}`);
  const wanted = new Set(ids);
  return limbo.testcases.filter((t) => wanted.has(t.id));
}
