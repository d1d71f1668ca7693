// Forgotten awaits: a move or readback a cell started and did not await is still running when the
// cell's code ends. The cell waits for it before its report (so the move is reported under the cell
// that made it, not the next one) and says which call it was.
import type { CellTask } from './cell-context';

/** How long a cell's end waits for its unawaited moves before it leaves them to run on. */
export const UNAWAITED_WAIT_MS = 10_000;

export interface UnawaitedCall {
  /** `xs.to('cpu')`, or `.to()` when the call's text is not known. */
  what: string;
  line: number | null;
  /** False when `what` is only the method's name (the call is in a function another cell defined). */
  known: boolean;
}

function where(call: UnawaitedCall): string {
  return `\`${call.what}\`${call.line === null ? '' : ` at line ${call.line}`}`;
}

/**
 * Waits for the tasks (at most UNAWAITED_WAIT_MS) and returns one warning line per task, saying
 * whether it finished or failed after the cell, or is still running.
 */
export async function settleUnawaited(tasks: readonly CellTask[], describe: (task: CellTask) => UnawaitedCall): Promise<string> {
  if (tasks.length === 0) return '';
  const outcomes = tasks.map((task) => {
    const outcome: { state: 'running' | 'finished' | 'failed'; reason: string } = { state: 'running', reason: '' };
    const done = task.done.then((error) => {
      if (error === undefined) {
        outcome.state = 'finished';
        return;
      }
      outcome.state = 'failed';
      outcome.reason = error instanceof Error ? error.message : String(error);
    });
    return { task, outcome, done };
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(outcomes.map(({ done }) => done)),
    new Promise((resolve) => { timer = setTimeout(resolve, UNAWAITED_WAIT_MS); }),
  ]);
  clearTimeout(timer);
  return outcomes.map(({ task, outcome }) => {
    const call = where(describe(task));
    const advice = describe(task).known ? ` Write \`await ${describe(task).what}\`.` : ' Await the call in this cell that started it.';
    if (outcome.state === 'finished') return `Warning: ${call} was not awaited: it finished after the cell.${advice}\n`;
    if (outcome.state === 'failed') return `Warning: ${call} was not awaited: it failed after the cell: ${outcome.reason}\n`;
    return `Warning: ${call} was not awaited and was still running ${UNAWAITED_WAIT_MS / 1000} s after the cell.\n`;
  }).join('');
}
