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

export function typeErrorOutcome(code: string, diagnostics: CellDiagnostic[]): ErrorOutcome {
  const [first] = diagnostics;
  if (!first) throw new Error('typeErrorOutcome needs at least one diagnostic');
  const more = diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more)` : '';
  const traceback: string[] = [];
  for (const diagnostic of diagnostics) {
    traceback.push(describe(diagnostic), ...excerpt(code, diagnostic));
    const hint = typeErrorHint(diagnostic.code, diagnostic.message, code.split('\n')[diagnostic.line - 1]);
    if (hint && !traceback.includes(hint)) traceback.push(hint);
    traceback.push('');
  }
  return { status: 'error', ename: 'TSError', evalue: `${describe(first)}${more}`, traceback: traceback.slice(0, -1) };
}

/** The same report as stderr text, for `%typecheck warn`. */
export function typeWarningText(code: string, diagnostics: CellDiagnostic[]): string {
  return `${typeErrorOutcome(code, diagnostics).traceback.join('\n')}\n`;
}
