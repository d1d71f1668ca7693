// Line magics written between statements run at their place, as IPython runs them: the magic's
// blanked line becomes an awaited call that runs it when the code gets there. Only a line between
// top-level statements can await there; a magic inside a block or a function still runs before
// the cell's code (the interpreter warns). The call is longer than the blanked line, which shifts
// columns on that line only: every other line keeps its number and columns.
import type ts from 'typescript';
import type { MagicCall } from '../../../magics/parser';

/** Where the interpreter installs the function that runs the cell's `index`th placed magic. */
export const RUN_MAGIC_LINE = Symbol.for('tsgpu.runMagicLine');

function callText(index: number): string {
  return `await (globalThis as any)[Symbol.for('tsgpu.runMagicLine')](${index});`;
}

export interface PlacedMagics {
  /** The code with each placed magic's line turned into its call. */
  code: string;
  /** The magics that run at their place, by the index their call passes. */
  placed: MagicCall[];
  /** The magics that could not be placed (inside a block or function): they run before the code. */
  early: MagicCall[];
}

/** Places `calls` (magics below the cell's first code line) where the code can await them. */
export function placeMagicLines(t: typeof ts, code: string, calls: readonly MagicCall[]): PlacedMagics {
  if (calls.length === 0) return { code, placed: [], early: [] };
  const lines = code.split('\n');
  calls.forEach((call, index) => {
    lines[call.line - 1] = callText(index);
  });
  const file = t.createSourceFile('cell.ts', lines.join('\n'), t.ScriptTarget.ES2022, true);
  // A call that parses as a top-level statement of its own: anywhere else (a block, a function, an
  // expression spanning lines) it could not await, or would not be a statement.
  const statements = new Set(file.statements.map((statement) => statement.getText(file)));
  const placed: MagicCall[] = [];
  const early: MagicCall[] = [];
  const final = code.split('\n');
  for (const call of calls) {
    if (statements.has(callText(calls.indexOf(call)))) {
      final[call.line - 1] = callText(placed.length);
      placed.push(call);
    } else {
      early.push(call);
    }
  }
  return { code: final.join('\n'), placed, early };
}
