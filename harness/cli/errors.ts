/** Bad input from the command line: reported as one line on stderr, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE_EXIT_CODE = 2;
