// The names a cell declares at top level, which later cells can use. Found syntactically, so it
// is cheap and works before (and without) type checking.
import type ts from 'typescript';
import { type BlockNames, blockNames } from './history-module';

/** `mutable` names (let, var) stay assignable in later cells; the rest are imported as they are. */
export type DeclarationKind = 'mutable' | 'fixed';

export interface CellDeclarations {
  names: Map<string, DeclarationKind>;
  /** Names the user already exported with an `export` modifier or clause. */
  exported: Set<string>;
  /** What its `declare global` and `declare module 'pkg'` blocks declare: these too go into the history. */
  blocks: BlockNames;
  /** Its `/// <reference path>`s: the files they name stay in the program for later cells. */
  references: string[];
}

function bindingNames(t: typeof ts, name: ts.BindingName, into: string[]): string[] {
  if (t.isIdentifier(name)) into.push(name.text);
  else for (const element of name.elements) if (!t.isOmittedExpression(element)) bindingNames(t, element.name, into);
  return into;
}

function isExported(t: typeof ts, node: ts.Node): boolean {
  return t.canHaveModifiers(node) && (t.getModifiers(node) ?? []).some((m) => m.kind === t.SyntaxKind.ExportKeyword);
}

export function cellDeclarations(t: typeof ts, file: ts.SourceFile): CellDeclarations {
  const names = new Map<string, DeclarationKind>();
  const exported = new Set<string>();
  const add = (name: string, kind: DeclarationKind, node: ts.Node): void => {
    names.set(name, kind);
    if (isExported(t, node)) exported.add(name);
  };
  for (const statement of file.statements) {
    if (t.isVariableStatement(statement)) {
      const mutable = (statement.declarationList.flags & t.NodeFlags.Const) === 0;
      for (const declaration of statement.declarationList.declarations) {
        for (const name of bindingNames(t, declaration.name, [])) add(name, mutable ? 'mutable' : 'fixed', statement);
      }
    } else if ((t.isFunctionDeclaration(statement) || t.isClassDeclaration(statement) || t.isInterfaceDeclaration(statement)
      || t.isTypeAliasDeclaration(statement) || t.isEnumDeclaration(statement)) && statement.name) {
      add(statement.name.text, 'fixed', statement);
    } else if (t.isModuleDeclaration(statement) && t.isIdentifier(statement.name)) {
      add(statement.name.text, 'fixed', statement);
    } else if (t.isImportDeclaration(statement) && statement.importClause) {
      const clause = statement.importClause;
      if (clause.name) names.set(clause.name.text, 'fixed');
      const bindings = clause.namedBindings;
      if (bindings && t.isNamespaceImport(bindings)) names.set(bindings.name.text, 'fixed');
      if (bindings && t.isNamedImports(bindings)) for (const element of bindings.elements) names.set(element.name.text, 'fixed');
    } else if (t.isImportEqualsDeclaration(statement)) {
      names.set(statement.name.text, 'fixed');
    } else if (t.isExportDeclaration(statement) && statement.exportClause && t.isNamedExports(statement.exportClause)) {
      for (const element of statement.exportClause.elements) exported.add(element.name.text);
    }
  }
  return { names, exported, blocks: blockNames(t, file), references: file.referencedFiles.map((reference) => reference.fileName) };
}
