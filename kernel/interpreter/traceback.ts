// Turns whatever a cell threw into the spec's error triple. Tracebacks keep only the user's own
// frames: frames from the kernel or Node internals tell a notebook user nothing.
import { inspect } from 'node:util';
import type { ErrorOutcome } from './interpreter';

export const CELL_FILE_PREFIX = '<cell ';

/** `<cell 3>`; code a magic runs for that cell (%time, %timeit) is `<cell 3.1>`, `<cell 3.2>`… */
export function cellFileName(executionCount: number): string {
  return `${CELL_FILE_PREFIX}${executionCount}>`;
}

/**
 * The name a traceback shows: `<cell 3>` for the cell and for code its magics ran. Sub-cells need
 * file names of their own (each maps its frames its own way), but the user wrote one cell.
 */
export function shownFileName(file: string): string {
  return file.replace(/^<cell (\d+)\.\d+>$/, '<cell $1>');
}

/** Maps a generated line:column of a cell file back to the user's cell; null leaves it as is. */
export type FrameMapper = (file: string, line: number, column: number) => { line: number; column: number } | null;
/** For a frame in one of the notebook's own modules: the name to show and the line:column in its source; null drops the frame. */
export type ModuleFrameMapper = (file: string, line: number, column: number) => { shown: string; line: number; column: number } | null;

const CELL_FRAME = /(<cell \d+(?:\.\d+)?>):(\d+):(\d+)/;
/** A frame in a TypeScript file: `at f (/notebook/util.ts:3:9)` or `at /notebook/util.ts:3:9`. */
const MODULE_FRAME = /(\/[^():]*\.(?:ts|mts|cts|tsx)):(\d+):(\d+)/;

export function toErrorOutcome(thrown: unknown, mapFrame?: FrameMapper, mapModuleFrame?: ModuleFrameMapper): ErrorOutcome {
  if (!(thrown instanceof Error)) {
    // `throw 'text'` or `throw {…}`: JavaScript allows any value.
    return { status: 'error', ename: 'Uncaught', evalue: inspect(thrown), traceback: [`Uncaught ${inspect(thrown)}`] };
  }
  const ename = thrown.name || 'Error';
  const evalue = thrown.message;
  const frames: string[] = [];
  for (const line of (thrown.stack ?? '').split('\n')) {
    if (!/^\s+at /.test(line)) continue;
    if (!line.includes(CELL_FILE_PREFIX)) {
      // A frame in the user's own module (util.ts beside the notebook), at its line in the source.
      const module = mapModuleFrame ? MODULE_FRAME.exec(line) : null;
      const mapped = module ? mapModuleFrame!(module[1]!, Number(module[2]), Number(module[3])) : null;
      if (mapped) frames.push(line.replace(MODULE_FRAME, `${mapped.shown}:${mapped.line}:${mapped.column}`));
      continue;
    }
    const frame = CELL_FRAME.exec(line);
    if (!frame || !mapFrame) {
      frames.push(frame ? line.replace(frame[1]!, shownFileName(frame[1]!)) : line);
      continue;
    }
    const [, file = '', row, column] = frame;
    const mapped = mapFrame(file, Number(row), Number(column));
    // A cell frame with no place in the cell is the wrapper that runs it: not the user's code.
    if (mapped) frames.push(line.replace(CELL_FRAME, `${shownFileName(file)}:${mapped.line}:${mapped.column}`));
  }
  return { status: 'error', ename, evalue, traceback: [`${ename}: ${evalue}`, ...frames] };
}
