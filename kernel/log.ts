// The kernel's own diagnostics go straight to file descriptor 2, synchronously. They never pass
// through process.stderr, which carries the user's output into the notebook (output-capture.ts),
// and in a worker thread would wait for a main thread that may be busy running a cell.
import { writeSync } from 'node:fs';

export function log(message: string): void {
  try {
    writeSync(2, `[tsgpu ${new Date().toISOString()}] ${message}\n`);
  } catch {
    // stderr closed (a detached kernel): nothing better to do with a diagnostic.
  }
}
