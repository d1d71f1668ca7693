// The declarations of every cell that ran, as one module the next cell imports from. Each cell's
// declarations arrive as TypeScript's own .d.ts output for it (so inferred types are exact); per
// name only the latest cell's declarations are kept, which is what re-running a cell means.
// One module with a fixed name keeps the checker's program structure stable from cell to cell:
// TypeScript then reuses everything but the two changed files, where a module per cell made it
// rebuild (and resolve) the whole program each time.
import type ts from 'typescript';

export const HISTORY_MODULE = '__tsgpu_history';

export class HistoryModule {
  /** Per declared name: its declaration statements (several for overloads or merged declarations). */
  private readonly declarations = new Map<string, string[]>();
  /** Per imported name: a single-binding import statement. */
  private readonly imports = new Map<string, string>();
  private readonly mutable = new Set<string>();
  private readonly kinds = new Map<string, DeclarationKind>();
  /**
   * Per name declared in a `declare global` block: its statements there. Blocks of all cells fold
   * into one, so a later block adds to the earlier ones and redefines only the names it declares.
   */
  private readonly globals = new Map<string, string[]>();
  /**
   * Per augmented module (`declare module 'pkg' { ... }` in a cell, its specifier as written): per
   * name declared there, its statements. As with globals, augmentations of a module add up across
   * cells and a later one redefines only the names it declares; in the history they stay in scope
   * for every later cell, as an augmentation in a project's file is for the whole project.
   */
  private readonly augmentations = new Map<string, Map<string, string[]>>();
  /**
   * `/// <reference path>`s of cells, as written (relative to the notebook's folder, where the history
   * is too): a .d.ts next to the notebook that one cell referenced (an ambient `declare module 'x'`,
   * say) stays in the program for every later cell.
   */
  private readonly references = new Set<string>();
  /** The last add's arguments, as one key: adding the same again changes nothing (see add). */
  private lastAdded: string | null = null;

  constructor(private readonly t: typeof ts) {}

  /** Names later cells can use, and whether each may be assigned (let, var). */
  names(): Map<string, boolean> {
    const names = new Map<string, boolean>();
    for (const name of [...this.imports.keys(), ...this.declarations.keys()]) names.set(name, this.mutable.has(name));
    return names;
  }

  /** What a name from an earlier cell is, for completion: earlier names reach a cell as imports. */
  kindOf(name: string): DeclarationKind | undefined {
    return this.kinds.get(name);
  }

  /** Takes one cell's .d.ts output; `mutable` are its let/var names, `references` its `/// <reference path>`s. */
  add(declarationText: string, mutable: Set<string>, references: readonly string[] = []): void {
    // A cell run again with the same declarations (the usual edit-and-rerun): its names were moved
    // to the end of the history by the last add, and would be moved there again, in the same order.
    // Skipping it saves parsing the .d.ts again.
    const key = JSON.stringify([declarationText, [...mutable], references]);
    if (key === this.lastAdded) return;
    this.lastAdded = key;
    const t = this.t;
    for (const reference of references) this.references.add(reference);
    const file = t.createSourceFile('cell.d.ts', declarationText, t.ScriptTarget.ES2022, true);
    const fresh = new Map<string, string[]>();
    const freshImports = new Map<string, string>();
    const freshKinds = new Map<string, DeclarationKind>();
    const freshGlobals = new Map<string, string[]>();
    const freshAugmentations = new Map<string, Map<string, string[]>>();
    const declare = (name: string, text: string, kind: DeclarationKind = 'variable'): void => {
      fresh.set(name, [...(fresh.get(name) ?? []), text]);
      freshKinds.set(name, kind);
    };
    for (const statement of file.statements) {
      if (t.isImportDeclaration(statement)) {
        const from = statement.moduleSpecifier.getText(file);
        if (from.includes(HISTORY_MODULE)) continue; // names of earlier cells: already here
        for (const [name, binding] of importBindings(t, statement)) {
          freshImports.set(name, `import ${binding} from ${from};`);
          freshKinds.set(name, 'module');
        }
      } else if (t.isVariableStatement(statement)) {
        const keyword = (statement.declarationList.flags & t.NodeFlags.Const) !== 0 ? 'const'
          : (statement.declarationList.flags & t.NodeFlags.Let) !== 0 ? 'let' : 'var';
        for (const declaration of statement.declarationList.declarations) {
          if (t.isIdentifier(declaration.name)) declare(declaration.name.text, `${docOf(statement, file)}export declare ${keyword} ${declaration.getText(file)};`);
        }
      } else if ((t.isFunctionDeclaration(statement) || t.isClassDeclaration(statement) || t.isInterfaceDeclaration(statement)
        || t.isTypeAliasDeclaration(statement) || t.isEnumDeclaration(statement)) && statement.name) {
        declare(statement.name.text, `${docOf(statement, file)}${exported(statement.getText(file))}`, kindOf(t, statement));
      } else if (isGlobalBlock(t, statement)) {
        for (const [name, text] of globalMembers(t, statement, file)) freshGlobals.set(name, [...(freshGlobals.get(name) ?? []), text]);
      } else if (t.isModuleDeclaration(statement) && t.isStringLiteral(statement.name)) {
        const members = freshAugmentations.get(statement.name.text) ?? new Map<string, string[]>();
        for (const [name, text] of globalMembers(t, statement, file)) members.set(name, [...(members.get(name) ?? []), text]);
        freshAugmentations.set(statement.name.text, members);
      } else if (t.isModuleDeclaration(statement) && t.isIdentifier(statement.name)) {
        declare(statement.name.text, `${docOf(statement, file)}${exported(statement.getText(file))}`, 'module');
      }
    }
    for (const name of [...fresh.keys(), ...freshImports.keys()]) {
      this.declarations.delete(name);
      this.imports.delete(name);
      this.mutable.delete(name);
      this.kinds.delete(name);
    }
    for (const [name, kind] of freshKinds) this.kinds.set(name, kind);
    for (const [name, texts] of fresh) this.declarations.set(name, texts);
    for (const [name, text] of freshImports) this.imports.set(name, text);
    for (const name of mutable) if (fresh.has(name)) this.mutable.add(name);
    for (const [name, texts] of freshGlobals) {
      this.globals.delete(name); // a redefinition goes where a new name would: after the others
      this.globals.set(name, texts);
    }
    for (const [module, members] of freshAugmentations) {
      const kept = this.augmentations.get(module) ?? new Map<string, string[]>();
      for (const [name, texts] of members) {
        kept.delete(name);
        kept.set(name, texts);
      }
      this.augmentations.set(module, kept);
    }
  }

  /**
   * The module's text. `except`: names a cell being checked declares in its own `declare global` or
   * `declare module` blocks, left out so that the cell's declaration replaces the earlier one, as it
   * will once it ran, instead of clashing with it (`extra?: number` redeclared as `extra?: string`).
   */
  text(except: BlockNames = NO_BLOCK_NAMES): string {
    const imported = [...this.imports.keys()];
    const block = (opening: string, members: Map<string, string[]>, left: ReadonlySet<string> | undefined): string[] => {
      const kept = [...members].filter(([name]) => !left?.has(name)).flatMap(([, texts]) => texts);
      return kept.length > 0 ? [`${opening} {\n${kept.join('\n')}\n}`] : [];
    };
    return [
      ...[...this.references].map((reference) => `/// <reference path=${JSON.stringify(reference)} />`),
      ...this.imports.values(),
      ...[...this.declarations.values()].flat(),
      `export { ${imported.join(', ')} };`,
      ...block('declare global', this.globals, except.globals),
      ...[...this.augmentations].flatMap(([module, members]) => block(`declare module ${JSON.stringify(module)}`, members, except.modules.get(module))),
    ].join('\n');
  }
}

/** The names a file declares in `declare global` blocks, and per augmented module in its `declare module 'x'` blocks. */
export interface BlockNames {
  globals: ReadonlySet<string>;
  modules: ReadonlyMap<string, ReadonlySet<string>>;
}

const NO_BLOCK_NAMES: BlockNames = { globals: new Set(), modules: new Map() };

/** What a cell's (or a .d.ts's) top-level `declare global` and `declare module 'x'` blocks declare. */
export function blockNames(t: typeof ts, file: ts.SourceFile): BlockNames {
  const globals = new Set<string>();
  const modules = new Map<string, Set<string>>();
  for (const statement of file.statements) {
    if (isGlobalBlock(t, statement)) {
      for (const [name] of globalMembers(t, statement, file)) globals.add(name);
    } else if (t.isModuleDeclaration(statement) && t.isStringLiteral(statement.name)) {
      const names = modules.get(statement.name.text) ?? new Set<string>();
      for (const [name] of globalMembers(t, statement, file)) names.add(name);
      modules.set(statement.name.text, names);
    }
  }
  return { globals, modules };
}

export type DeclarationKind = 'variable' | 'function' | 'class' | 'interface' | 'type' | 'enum' | 'module';

function kindOf(t: typeof ts, statement: ts.Statement): DeclarationKind {
  if (t.isFunctionDeclaration(statement)) return 'function';
  if (t.isClassDeclaration(statement)) return 'class';
  if (t.isInterfaceDeclaration(statement)) return 'interface';
  if (t.isTypeAliasDeclaration(statement)) return 'type';
  return 'enum';
}

/** The JSDoc above a statement, kept so inspection shows it in later cells. */
function docOf(statement: ts.Statement, file: ts.SourceFile): string {
  const leading = file.text.slice(statement.getFullStart(), statement.getStart(file));
  const docs = leading.match(/\/\*\*[\s\S]*?\*\//g);
  return docs ? `${docs.join('\n')}\n` : '';
}

/** `declare global { ... }`: its members are global names, not the history's exports. */
function isGlobalBlock(t: typeof ts, statement: ts.Statement): statement is ts.ModuleDeclaration {
  return t.isModuleDeclaration(statement) && (statement.flags & t.NodeFlags.GlobalAugmentation) !== 0;
}

/**
 * A `declare global` or `declare module 'pkg'` block's statements, each under the name it declares
 * (one per variable of a `var a, b`).
 */
function globalMembers(t: typeof ts, block: ts.ModuleDeclaration, file: ts.SourceFile): [string, string][] {
  const body = block.body;
  if (!body || !t.isModuleBlock(body)) return [];
  const members: [string, string][] = [];
  for (const statement of body.statements) {
    const doc = docOf(statement, file);
    if (t.isVariableStatement(statement)) {
      const keyword = (statement.declarationList.flags & t.NodeFlags.Const) !== 0 ? 'const'
        : (statement.declarationList.flags & t.NodeFlags.Let) !== 0 ? 'let' : 'var';
      for (const declaration of statement.declarationList.declarations) {
        members.push([declaration.name.getText(file), `${doc}${keyword} ${declaration.getText(file)};`]);
      }
    } else {
      const named = statement as ts.Statement & { name?: ts.Node };
      // A statement without a name of its own (none is expected in a .d.ts) is kept under its text.
      members.push([named.name ? named.name.getText(file) : statement.getText(file), `${doc}${statement.getText(file)}`]);
    }
  }
  return members;
}

function exported(text: string): string {
  return text.startsWith('export ') ? text : `export ${text}`;
}

/** `import a, { b as c } from 'm'` -> [['a', 'a'], ['c', '{ b as c }']]: one import per name. */
function importBindings(t: typeof ts, statement: ts.ImportDeclaration): [string, string][] {
  const clause = statement.importClause;
  if (!clause) return [];
  const typeOnly = clause.isTypeOnly ? 'type ' : '';
  const bindings: [string, string][] = [];
  if (clause.name) bindings.push([clause.name.text, `${typeOnly}${clause.name.text}`]);
  const named = clause.namedBindings;
  if (named && t.isNamespaceImport(named)) bindings.push([named.name.text, `${typeOnly}* as ${named.name.text}`]);
  if (named && t.isNamedImports(named)) {
    for (const element of named.elements) {
      const imported = element.propertyName ? `${element.propertyName.text} as ` : '';
      bindings.push([element.name.text, `${typeOnly}{ ${element.isTypeOnly ? 'type ' : ''}${imported}${element.name.text} }`]);
    }
  }
  return bindings;
}
