// A cell that fails type checking becomes one `TSError`: evalue names the first problem by cell
// line:column and TS code; the traceback shows every problem with its source line and a caret.
import type { ErrorOutcome } from '../interpreter';
import { typeErrorHint } from '../hints';
import type { CellDiagnostic } from './checker';

export function describe(diagnostic: CellDiagnostic): string {
  return `${diagnostic.line}:${diagnostic.column} - ${diagnostic.category} TS${diagnostic.code}: ${diagnostic.message}`;
}

function excerpt(code: string, diagnostic: CellDiagnostic): string[] {
  const source = code.split('\n')[diagnostic.line - 1] ?? '';
  const gutter = `${diagnostic.line} | `;
  const width = Math.max(1, Math.min(diagnostic.length, [...source].length - diagnostic.column + 1));
  return [`${gutter}${source}`, `${' '.repeat(gutter.length + diagnostic.column - 1)}${'^'.repeat(width)}`];
}

/**
 * The name the problem is about: the receiver of a missing member (`xin` in `xin.add`), or the
 * flagged text itself when it is a name (`xin` in `m.predict(xin)`).
 */
function subjectOf(code: string, diagnostic: CellDiagnostic): string {
  const source = code.split('\n')[diagnostic.line - 1] ?? '';
  const flagged = source.slice(diagnostic.column - 1, diagnostic.column - 1 + diagnostic.length);
  if (diagnostic.code === 2339 || diagnostic.code === 2551) return /([A-Za-z_$][\w$]*)\s*\.\s*$/.exec(source.slice(0, diagnostic.column - 1))?.[1] ?? '';
  return /^[A-Za-z_$][\w$]*$/.test(flagged) ? flagged : '';
}

export function typeErrorOutcome(code: string, diagnostics: CellDiagnostic[]): ErrorOutcome {
  const [first] = diagnostics;
  if (!first) throw new Error('typeErrorOutcome needs at least one diagnostic');
  const more = diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more)` : '';
  const traceback: string[] = [];
  for (const diagnostic of diagnostics) {
    traceback.push(describe(diagnostic), ...excerpt(code, diagnostic));
    const hint = typeErrorHint(diagnostic.code, diagnostic.message, code.split('\n')[diagnostic.line - 1], { cellCode: code, subject: subjectOf(code, diagnostic) });
    if (hint && !traceback.includes(hint)) traceback.push(hint);
    traceback.push('');
  }
  return { status: 'error', ename: 'TSError', evalue: `${describe(first)}${more}`, traceback: traceback.slice(0, -1) };
}

/** The same report as stderr text, for `%typecheck warn`: said to be a warning, since it reads as the error that stops a cell. */
export function typeWarningText(code: string, diagnostics: CellDiagnostic[]): string {
  return `Type errors (%typecheck warn: the cell runs all the same):\n${typeErrorOutcome(code, diagnostics).traceback.join('\n')}\n`;
}

/**
 * What later cells will not see exactly of this cell's declarations (declaration-warnings.ts): the
 * declaration emit's words, which speak of exports (the kernel's, so that later cells see the
 * names), and what it means for the user.
 */
export function declarationWarningText(code: string, diagnostics: CellDiagnostic[]): string {
  const lines = diagnostics.flatMap((diagnostic) => [describe(diagnostic), ...excerpt(code, diagnostic)]);
  return ['Warning: later cells cannot be given the exact type of what this cell declares; the cell ran.', ...lines,
    'Later cells see those names as TypeScript can write them down: a type declared inside a function as `any`, a class expression\'s private members as public. '
    + 'Declare such types at the top level of a cell (or give the name a type there) to keep them.', ''].join('\n');
}
