import { catalogCommand } from './catalog.ts';
import { checkCommand } from './check.ts';
import { diagnoseCommand } from './diagnose.ts';
import { USAGE_EXIT_CODE as USAGE_ERROR, UsageError } from './errors.ts';
import { CLOSED_PIPE_EXIT_CODE, outputClosed, processIo, quietOnClosedPipe, type Io } from './io.ts';
import { limboCommand } from './limbo.ts';
import { serveCommand } from './serve.ts';
import { packageVersion } from './version.ts';

const HELP = `tls-harness — local TLS endpoints broken on purpose, and what Node's clients say about them

Usage: tls-harness <command> [options]

Commands:
  catalog     list the scenarios (family, id, title, what a strict client must do);
              --versions shows where Node versions disagree
  serve       serve every scenario (or the named ones) on 127.0.0.1 until Ctrl-C: an offline badssl.com,
              with an index page and the clients' PEM files
  check       test any TLS client: run a trytls-style stub (CMD … <host> <port> [<ca-bundle>]) against every
              scenario and grade its ACCEPT / REJECT with PASS, FAIL or SKIP
  diagnose    connect to <url | host:port> with Node, name the catalog entry that matches what it sees, print its
              cause and fix and the certificate chain the server sent
  limbo       run an x509-limbo test suite (limbo.json) as real handshakes against Node's TLS stack and print
              x509-limbo's result format (--json, --out) or a table and summary; catalog --limbo exports one

Options:
  -h, --help     show help (also: tls-harness <command> --help)
  -v, --version  print the version of tls-harness

Bad input (an unknown scenario, an unreadable file, a port in use, a missing command, an unreachable host) is one
line on stderr and exit code 2.
`;

/** What a command may be given besides its arguments; in tests, a signal stands in for Ctrl-C. */
export interface CommandContext {
  /** Stops a long-running command (serve, check) as SIGINT/SIGTERM would; without it, those signals are caught. */
  signal?: AbortSignal;
}

/** The command line (bin/tls-harness.js): main() with the process's arguments and streams; sets the exit code. */
export async function runCommandLine(): Promise<void> {
  quietOnClosedPipe();
  const code = await main(process.argv.slice(2));
  process.exitCode = outputClosed.signal.aborted ? CLOSED_PIPE_EXIT_CODE : code;
}

/** Run the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: string[], io: Io = processIo, context: CommandContext = {}): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.out(HELP);
    return command === undefined ? USAGE_ERROR : 0;
  }
  if (command === '--version' || command === '-v') {
    io.out(`${packageVersion()}\n`);
    return 0;
  }
  if (io === processIo && ['serve', 'check', 'diagnose'].includes(command)) muteWeakDhWarning();
  try {
    switch (command) {
      case 'catalog':
        return await catalogCommand(rest, io);
      case 'serve':
        return await serveCommand(rest, io, context);
      case 'check':
        return await checkCommand(rest, io, context);
      case 'diagnose':
        return await diagnoseCommand(rest, io);
      case 'limbo':
        return await limboCommand(rest, io);
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

/**
 * dhe-1024 serves 1024-bit DH parameters on purpose, and Node warns about that once per process ("SecurityWarning:
 * DH parameter is less than 2048 bits"). On the command line that line is noise; every other warning still prints.
 */
function muteWeakDhWarning(): void {
  const printers = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'SecurityWarning' && warning.message.startsWith('DH parameter is less than')) return;
    for (const print of printers) print.call(process, warning);
  });
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}
