// One parse of a cell's text for the readers that need its syntax alone: the emit (transpile.ts)
// and the names it declares (checker.ts). A typed cell was parsed once by each, ~0.5 ms apiece for
// 25 lines; the kept checker still parses its own copy, bound and named for its program.
import type ts from 'typescript';

let last: { t: typeof ts; code: string; file: ts.SourceFile } | null = null;

/** The cell parsed as TypeScript, without parent pointers; the same tree while `code` is the last one asked for. */
export function cellSyntax(t: typeof ts, code: string): ts.SourceFile {
  if (last !== null && last.t === t && last.code === code) return last.file;
  const file = t.createSourceFile('cell.ts', code, t.ScriptTarget.ES2022, false, t.ScriptKind.TS);
  last = { t, code, file };
  return file;
}
