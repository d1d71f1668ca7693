// The source text of the call at a cell position, for messages that name what the user wrote
// (`xs.to('cpu')` at line 1). V8 places a method call's frame at the method's name.
import type ts from 'typescript';

const LONGEST = 60;

/** The innermost call whose method name (or callee) starts at line:column (1-based); null when none does. */
export function callTextAt(t: typeof ts, code: string, line: number, column: number): string | null {
  const file = t.createSourceFile('cell.ts', code, t.ScriptTarget.ES2022, true);
  const lines = file.getLineStarts();
  const start = lines[line - 1];
  if (start === undefined) return null;
  const position = start + column - 1;
  let found: ts.CallExpression | null = null;
  const visit = (node: ts.Node): void => {
    if (position < node.getStart(file) || position >= node.getEnd()) return;
    if (t.isCallExpression(node)) {
      const callee = node.expression;
      const at = t.isPropertyAccessExpression(callee) ? callee.name.getStart(file) : callee.getStart(file);
      if (at === position) found = node;
    }
    t.forEachChild(node, visit);
  };
  visit(file);
  if (found === null) return null;
  const text = (found as ts.CallExpression).getText(file).replace(/\s*\n\s*/g, ' ');
  return text.length > LONGEST ? `${text.slice(0, LONGEST - 1)}…` : text;
}
