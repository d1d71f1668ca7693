// What a cell declares reaches later cells as TypeScript's .d.ts of it (history-module.ts), and a
// .d.ts cannot write every type down: a type declared inside a function (`function f() { interface
// H {…} return h }` leaves `f(): H` with H unknown to later cells, which then take it as `any`), a
// class expression's private members (public in the .d.ts). The declaration emit says so (TS4025,
// TS4094, …). Those are no errors in the user's code, so the cell runs; the user is told which
// names lose their types. Found only where the cell writes what can cause it (mayLoseTypes): the
// declaration emit is a third of a clean cell's check, and otherwise runs after the reply.
import type ts from 'typescript';

/**
 * Whether the cell's declarations may hold a type their .d.ts cannot write: a class expression,
 * or a type declared below the top level (in a function or block), or an import (a package's type
 * the history may not reach by name).
 * `codeLength`: where the user's code ends in the checker's text; the kernel's link to the history
 * after it imports every earlier name, which made every cell look as if it imported a package
 * (and put the declaration emit, a third of a clean cell's check, before each cell's reply).
 */
export function mayLoseTypes(t: typeof ts, file: ts.SourceFile, codeLength = file.text.length): boolean {
  let found = false;
  const visit = (node: ts.Node, topLevel: boolean): void => {
    if (found) return;
    if (t.isClassExpression(node) || t.isImportDeclaration(node) || t.isImportEqualsDeclaration(node) || t.isImportTypeNode(node)) {
      found = true;
      return;
    }
    if (!topLevel && (t.isInterfaceDeclaration(node) || t.isTypeAliasDeclaration(node) || t.isClassDeclaration(node) || t.isEnumDeclaration(node) || t.isModuleDeclaration(node))) {
      found = true;
      return;
    }
    t.forEachChild(node, (child) => visit(child, false));
  };
  for (const statement of file.statements) {
    if (statement.pos >= codeLength) break;
    // A top-level declaration is exported as it is; what is inside it is not.
    if (t.isInterfaceDeclaration(statement) || t.isTypeAliasDeclaration(statement) || t.isClassDeclaration(statement) || t.isEnumDeclaration(statement) || t.isModuleDeclaration(statement)) {
      t.forEachChild(statement, (child) => visit(child, false));
    } else {
      visit(statement, true);
    }
    if (found) return true;
  }
  return found;
}
