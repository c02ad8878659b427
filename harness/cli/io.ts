/** Where a command writes: the process's streams by default, buffers in tests. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** Aborted when a reader closed stdout or stderr early: long-running commands stop, as on SIGTERM. */
export const outputClosed = new AbortController();

export const processIo: Io = {
  out: (text) => void (outputClosed.signal.aborted || process.stdout.write(text)),
  err: (text) => void (outputClosed.signal.aborted || process.stderr.write(text)),
};

/** The exit status a shell gives a process killed by SIGPIPE (128 + 13). */
export const CLOSED_PIPE_EXIT_CODE = 141;

/**
 * A reader that stops early (`tls-harness catalog | head`) closes the pipe; the next write fails with EPIPE, which
 * Node raises as an unhandled 'error'. Like other command-line tools, go quiet then: nothing more is written, a
 * long-running command (serve, check) stops and cleans up as on SIGTERM, and the exit status is 141.
 */
export function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exitCode = CLOSED_PIPE_EXIT_CODE; // also when the command has returned already (its last write failed)
      outputClosed.abort();
    });
  }
}
