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

/** The nodes a loop body runs only on some iterations: an if's branches, a ?:'s, a switch's cases, && / || / ??'s right side. */
function branches(t: typeof ts, node: ts.Node, found: ts.Node[]): void {
  if (t.isIfStatement(node)) found.push(node.thenStatement, ...(node.elseStatement ? [node.elseStatement] : []));
  else if (t.isConditionalExpression(node)) found.push(node.whenTrue, node.whenFalse);
  else if (t.isCaseClause(node) || t.isDefaultClause(node)) found.push(...node.statements);
  else if (t.isBinaryExpression(node) && [t.SyntaxKind.AmpersandAmpersandToken, t.SyntaxKind.BarBarToken, t.SyntaxKind.QuestionQuestionToken].includes(node.operatorToken.kind)) {
    found.push(node.right);
  }
  t.forEachChild(node, (child) => branches(t, child, found));
}

/** A node's lines (1-based) and its place in the text. */
interface Placed {
  first: number;
  last: number;
  start: number;
  end: number;
}

function placed(file: ts.SourceFile, node: ts.Node): Placed {
  const start = node.getStart(file);
  const end = node.getEnd();
  return { first: file.getLineAndCharacterOfPosition(start).line + 1, last: file.getLineAndCharacterOfPosition(end).line + 1, start, end };
}

/** The cell's lines (1-based) inside its own loops, and of those the ones only some iterations run. */
export interface LoopLines {
  inLoop: Set<number>;
  someIterations: Set<number>;
}

/**
 * A line runs only on some iterations where a branch inside a loop holds it (`if (step % 50 === 0)
 * await loss.item();`) and no loop inside that branch does. Lines are all the report knows of a
 * move, so a line that holds both a branch and code every iteration runs counts as a branch's.
 */
export function loopLineSets(t: typeof ts, code: string): LoopLines {
  const file = t.createSourceFile('cell.ts', code, t.ScriptTarget.Latest, false, t.ScriptKind.TS);
  const bodies: ts.Node[] = [];
  loopBodies(t, file, bodies);
  const loops = bodies.map((body) => placed(file, body));
  const found: ts.Node[] = [];
  branches(t, file, found);
  const branchesAt = found.map((node) => placed(file, node));
  const holds = (node: Placed, line: number): boolean => node.first <= line && line <= node.last;
  const within = (inner: Placed, outer: Placed): boolean => inner.start >= outer.start && inner.end <= outer.end;
  const inLoop = new Set<number>();
  const someIterations = new Set<number>();
  const lastLine = loops.reduce((last, body) => Math.max(last, body.last), 0);
  for (let line = 1; line <= lastLine; line++) {
    const around = loops.filter((body) => holds(body, line));
    if (around.length === 0) continue;
    inLoop.add(line);
    // A branch in a loop holds the line, and no loop inside that branch does (that loop's every iteration runs it).
    const branched = branchesAt.some((branch) => holds(branch, line) && around.some((body) => within(branch, body))
      && !around.some((body) => within(body, branch)));
    if (branched) someIterations.add(line);
  }
  return { inLoop, someIterations };
}

/** The cell's lines (1-based) inside its own loops. */
export function loopLines(t: typeof ts, code: string): Set<number> {
  return loopLineSets(t, code).inLoop;
}

/** A cell's source for the layers, its loops found only if a hint asks. */
export function cellSource(t: typeof ts, code: string): CellSource {
  let lines: LoopLines | null = null;
  return {
    inLoop: (line) => (lines ??= loopLineSets(t, code)).inLoop.has(line),
    someIterations: (line) => (lines ??= loopLineSets(t, code)).someIterations.has(line),
    lineText: (line) => code.split('\n')[line - 1] ?? '',
  };
}
