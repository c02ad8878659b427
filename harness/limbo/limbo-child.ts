import type { LimboTestcase, TestcaseResult } from './model.ts';
import { runInProcess, runLanes, type ChildRequest, type HelperMessage, type OwnCertificate } from './lanes.ts';
import { skipContext } from './skips.ts';

/**
 * A child of the limbo runner (runner.ts), in one of two roles.
 * `helper`: takes cases from the parent's queue over the IPC channel, one per free lane, and sends each result back;
 * it ends when the parent has no case left for any lane.
 * Otherwise, a faketime child (runUnderFaketime): reads { at, testcases, timeoutMs } on stdin, runs the cases, prints
 * { results } on stdout. Its wall clock must read `at` (frozen by libfaketime): if it does not — a Node built
 * statically, or a libfaketime that did not load — every case is SKIPPED with what the clock read instead.
 */

async function helper(): Promise<void> {
  const send = (message: HelperMessage) => process.send?.(message);
  const waiting: ((testcase: LimboTestcase | undefined) => void)[] = [];
  const started = new Promise<{ jobs: number; timeoutMs: number; own: OwnCertificate }>((resolve) => {
    process.on('message', (message: HelperMessage) => {
      if (message.kind === 'start') resolve(message);
      else if (message.kind === 'case') waiting.shift()?.(message.testcase ?? undefined);
    });
  });
  // A parent that dies without stopping this helper (SIGKILL, a crash) closes the channel: no case will come, and the
  // lanes' servers would otherwise keep this process alive.
  let finished = false;
  process.on('disconnect', () => {
    if (!finished) process.exit(1);
  });
  const { jobs, timeoutMs, own } = await started;
  // Answers come in the order asked (one channel), so the first waiting lane gets the first answer.
  const next = () =>
    new Promise<LimboTestcase | undefined>((resolve) => {
      waiting.push(resolve);
      send({ kind: 'want' });
    });
  await runLanes(own, next, jobs, timeoutMs, (result) => send({ kind: 'result', result }));
  finished = true;
  process.disconnect();
}

async function faketimeGroup(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChildRequest;
  const wanted = Date.parse(`${request.at.replace(' ', 'T')}Z`);
  const reads = Date.now();
  let results: TestcaseResult[];
  if (Math.floor(reads / 1000) * 1000 !== wanted) {
    const reason = `libfaketime did not set this Node's clock to ${request.at} UTC (it reads ${new Date(reads).toISOString()})`;
    results = request.testcases.map((t) => ({
      id: t.id,
      actual_result: 'SKIPPED',
      context: skipContext([{ feature: 'validation-time', reason }]),
    }));
  } else {
    // Two lanes: a group holds a handful of cases, and the machine runs other groups' children beside this one.
    results = await runInProcess(request.own, request.testcases, 2, request.timeoutMs);
  }
  process.stdout.write(JSON.stringify({ results }));
}

await (process.argv[2] === 'helper' ? helper() : faketimeGroup());
