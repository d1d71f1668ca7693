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
  let raw = 0;
  for (const stackLine of (thrown.stack ?? '').split('\n')) {
    if (!/^\s+at /.test(stackLine)) continue;
    raw++;
    // A cell's top-level `const f = () => …` is kept as globalThis.f, which V8 names it by.
    const line = stackLine.replace(/^(\s+at (?:async )?)globalThis\./, '$1');
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
  // V8 keeps the innermost Error.stackTraceLimit frames: a deep recursion's outer calls (maybe the cell's own line) are not in it.
  // Where the cell's own top-level frame is in it, only the kernel's frames below it were cut.
  const whole = frames.some((frame) => /^\s+at (?:async )?<cell \d+>:\d+:\d+$/.test(frame));
  const cut = raw >= Error.stackTraceLimit && !whole ? Error.stackTraceLimit : null;
  return { status: 'error', ename, evalue, traceback: [`${ename}: ${evalue}`, ...foldRepeats(frames, cut)] };
}

/** The longest run of calls (f, or f→g→f…) folded into one line: a recursion's stack overflow is otherwise a screen of the same frames. */
const LONGEST_CYCLE = 4;

/** Runs of the same frame, or the same 2–4 frames in turn, shown once with how many more times they repeated (as Python's tracebacks do). */
function foldRepeats(frames: string[], cut: number | null): string[] {
  const shown: string[] = [];
  let at = 0;
  while (at < frames.length) {
    let folded = false;
    for (let cycle = 1; cycle <= LONGEST_CYCLE && !folded; cycle++) {
      let repeats = 0;
      while (at + (repeats + 2) * cycle <= frames.length && sameRun(frames, at, at + (repeats + 1) * cycle, cycle)) repeats++;
      // Two in a row can be honest code (a helper calling itself once); three is a recursion.
      if (repeats < 2) continue;
      shown.push(...frames.slice(at, at + cycle));
      const what = cycle === 1 ? 'the frame above' : `the ${cycle} frames above`;
      at += (repeats + 1) * cycle;
      // Where the trace was cut inside the recursion, how many more times it went on is not known.
      const atLeast = cut !== null && at >= frames.length - cycle ? 'at least ' : '';
      shown.push(`    [${what} repeated ${atLeast}${repeats} more times]`);
      folded = true;
    }
    if (!folded) shown.push(frames[at++]!);
  }
  if (cut !== null) shown.push(`    [the trace stops at ${cut} frames: calls further out are not shown]`);
  return shown;
}

function sameRun(frames: string[], first: number, second: number, length: number): boolean {
  for (let offset = 0; offset < length; offset++) if (frames[first + offset] !== frames[second + offset]) return false;
  return true;
}
