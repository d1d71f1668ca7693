// Turns whatever a cell threw into the spec's error triple. Tracebacks keep only the user's own
// frames: frames from the kernel or Node internals tell a notebook user nothing.
import { inspect } from 'node:util';
import type { ErrorOutcome } from './interpreter';

export const CELL_FILE_PREFIX = '<cell ';

export function cellFileName(executionCount: number): string {
  return `${CELL_FILE_PREFIX}${executionCount}>`;
}

/** Maps a generated line:column of a cell file back to the user's cell; null leaves it as is. */
export type FrameMapper = (file: string, line: number, column: number) => { line: number; column: number } | null;

const CELL_FRAME = /(<cell \d+>):(\d+):(\d+)/;

export function toErrorOutcome(thrown: unknown, mapFrame?: FrameMapper): ErrorOutcome {
  if (!(thrown instanceof Error)) {
    // `throw 'text'` or `throw {…}`: JavaScript allows any value.
    return { status: 'error', ename: 'Uncaught', evalue: inspect(thrown), traceback: [`Uncaught ${inspect(thrown)}`] };
  }
  const ename = thrown.name || 'Error';
  const evalue = thrown.message;
  const frames = (thrown.stack ?? '').split('\n')
    .filter((line) => /^\s+at /.test(line) && line.includes(CELL_FILE_PREFIX))
    .map((line) => line.replace(CELL_FRAME, (whole, file: string, row: string, column: string) => {
      const mapped = mapFrame?.(file, Number(row), Number(column));
      return mapped ? `${file}:${mapped.line}:${mapped.column}` : whole;
    }));
  return { status: 'error', ename, evalue, traceback: [`${ename}: ${evalue}`, ...frames] };
}
