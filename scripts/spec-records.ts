import Mocha from 'mocha';

/** One test of a live spec run: its describe path and title, and whether it passed or is pending (with why). */
export interface SpecRecord {
  path: string[];
  state: 'passed' | 'pending';
}

export class SpecRunFailed extends Error {
  override name = 'SpecRunFailed';
}

/**
 * Run spec files in this process with mocha (the .mocharc.json timeout) and return every test's title path and state.
 * A spec's `it` titles state the exact outcome it asserted, so a passing test's path is an observation: this is how
 * docs/CATALOG.md shows what the external clients and the server backends did. Any failure makes it throw: a page
 * must not document an outcome that was not seen.
 */
export async function runSpecs(files: string[]): Promise<SpecRecord[]> {
  const records: SpecRecord[] = [];
  const failures: string[] = [];
  const mocha = new Mocha({ timeout: 10_000 });
  for (const file of files) mocha.addFile(file);
  mocha.reporter(
    class extends Mocha.reporters.Base {
      constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
        super(runner, options);
        runner.on('pass', (test) => records.push({ path: test.titlePath(), state: 'passed' }));
        runner.on('pending', (test) => records.push({ path: test.titlePath(), state: 'pending' }));
        runner.on('fail', (test, error: Error) => failures.push(`${test.fullTitle()}: ${error.message}`));
      }
    },
  );
  await mocha.loadFilesAsync();
  await new Promise<number>((resolve) => mocha.run(resolve));
  mocha.dispose();
  if (failures.length > 0) throw new SpecRunFailed(`${failures.length} failing:\n${failures.join('\n')}`);
  return records;
}
