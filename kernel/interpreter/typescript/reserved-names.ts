// The one name every cell's emitted code refers to (cell-rewrite.ts RUNTIME: its loop checks and
// imports): a cell that declares it shadows the kernel's object (`TypeError: Cannot read properties
// of undefined (reading 'pending')` from a loop), and one that assigns it fails on a read-only
// global. Such a cell is refused before it runs, with the way out.
import type ts from 'typescript';
import { RUNTIME } from './cell-rewrite';

/** Why `code` cannot run as written (it names the kernel's runtime), or null. */
export function reservedNameUse(t: typeof ts, code: string): string | null {
  if (!code.includes(RUNTIME)) return null;
  const file = t.createSourceFile('cell.ts', code, t.ScriptTarget.Latest, true);
  let line: number | null = null;
  const visit = (node: ts.Node): void => {
    if (line !== null) return;
    if (t.isIdentifier(node) && node.text === RUNTIME && !isMemberName(t, node)) {
      line = file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
      return;
    }
    t.forEachChild(node, visit);
  };
  visit(file);
  return line === null ? null
    : `\`${RUNTIME}\` (line ${line}) is the name the kernel's own code uses in every cell (its loop checks and imports): give yours another name`;
}

/** `x.__tsgpu`, `{ __tsgpu: 1 }`, a class member: a property, not the variable. */
function isMemberName(t: typeof ts, node: ts.Identifier): boolean {
  const parent = node.parent;
  return (t.isPropertyAccessExpression(parent) && parent.name === node)
    || ((t.isPropertyAssignment(parent) || t.isPropertyDeclaration(parent) || t.isMethodDeclaration(parent) || t.isPropertySignature(parent)
      || t.isMethodSignature(parent) || t.isGetAccessor(parent) || t.isSetAccessor(parent)) && parent.name === node);
}
