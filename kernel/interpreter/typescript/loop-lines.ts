// Which lines of a cell run once per iteration of a loop the cell itself writes: the bodies of
// for, for…in, for…of, for await, while and do, and of callbacks handed to the array methods that
// loop (xs.forEach(x => …), Array.from({ length }, () => …)). The report's loop hints are about
// these lines only: a line run many times by a library (fit's batches) or by %timeit is not the
// user's loop. Parsed once, when a hint first asks.
import type ts from 'typescript';
import type { CellSource } from '../cell-hooks';

/** Array methods that call their callback once per element. */
const LOOPING_METHODS = new Set(['forEach', 'map', 'flatMap', 'filter', 'reduce', 'reduceRight', 'some', 'every', 'find', 'findIndex', 'findLast', 'findLastIndex', 'from']);

function loopBodies(t: typeof ts, node: ts.Node, found: ts.Node[]): void {
  if (t.isForStatement(node) || t.isForInStatement(node) || t.isForOfStatement(node) || t.isWhileStatement(node) || t.isDoStatement(node)) {
    found.push(node.statement);
    // A for loop's condition and step run every iteration too.
    if (t.isForStatement(node)) for (const part of [node.condition, node.incrementor]) if (part) found.push(part);
    if (t.isWhileStatement(node) || t.isDoStatement(node)) found.push(node.expression);
  } else if (t.isCallExpression(node) && t.isPropertyAccessExpression(node.expression) && LOOPING_METHODS.has(node.expression.name.text)) {
    for (const argument of node.arguments) if (t.isArrowFunction(argument) || t.isFunctionExpression(argument)) found.push(argument.body);
  }
  t.forEachChild(node, (child) => loopBodies(t, child, found));
}

/** The cell's lines (1-based) inside its own loops. */
export function loopLines(t: typeof ts, code: string): Set<number> {
  const file = t.createSourceFile('cell.ts', code, t.ScriptTarget.Latest, false, t.ScriptKind.TS);
  const bodies: ts.Node[] = [];
  loopBodies(t, file, bodies);
  const lines = new Set<number>();
  for (const body of bodies) {
    const first = file.getLineAndCharacterOfPosition(body.getStart(file)).line;
    const last = file.getLineAndCharacterOfPosition(body.getEnd()).line;
    for (let line = first; line <= last; line++) lines.add(line + 1);
  }
  return lines;
}

/** A cell's source for the layers, its loops found only if a hint asks. */
export function cellSource(t: typeof ts, code: string): CellSource {
  let lines: Set<number> | null = null;
  return {
    inLoop: (line) => (lines ??= loopLines(t, code)).has(line),
  };
}
