import { catalogCommand } from './catalog.ts';
import { USAGE_EXIT_CODE as USAGE_ERROR, UsageError } from './errors.ts';
import { processIo, type Io } from './io.ts';

const HELP = `tls-harness — local TLS endpoints broken on purpose, and what Node's clients say about them

Usage: tls-harness <command> [options]

Commands:
  catalog     list the scenarios (family, id, title, what a strict client must do);
              --versions shows where Node versions disagree

Options:
  -h, --help  show help (also: tls-harness <command> --help)
`;

/** Run the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.out(HELP);
    return command === undefined ? USAGE_ERROR : 0;
  }
  try {
    switch (command) {
      case 'catalog':
        return await catalogCommand(rest, io);
      default:
        throw new UsageError(`unknown command: ${command} (try tls-harness --help)`);
    }
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      io.err(`tls-harness: ${(error as Error).message}\n`);
      return USAGE_ERROR;
    }
    throw error;
  }
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}
