// One TypeScript type checker kept from cell to cell.
//
// A LanguageService makes a new program for every edit, and TypeScript makes a new type checker for
// every program: the standard library's global types (Array, Promise, Math…) and Node's are looked
// up and instantiated afresh for each cell. That was most of a typed cell's round trip (for the
// 25-line cell of bench/exec.ts: 10 ms building the program and checker, 20 ms checking).
//
// Here one checker is made over a program the LanguageService built (its library files already
// parsed and bound) and kept. Each cell is parsed as a new source file of its own name, bound, and
// checked by that checker; the history module is swapped for its latest text the same way. What
// the checker learnt about the library stays. Nothing of an earlier cell is global (each cell and
// the history are modules), so what is cached for earlier cells is never consulted again.
//
// Only cells this can check exactly take this path: a cell that imports a module, refers to other
// files, declares globals or ambient modules, or has comment directives (@ts-ignore) is checked
// by the LanguageService, and so is a history that imports modules the base program did not
// resolve, or whose `declare global` and `declare module` blocks and `/// <reference>`s are not
// the ones the checker was made with. CellChecker also rechecks through the LanguageService any
// cell this finds an error in, so no error a user sees rests on this path alone.
import path from 'node:path';
import type ts from 'typescript';

/** TypeScript's internals this relies on: present since 5.0, all on the module object. */
interface CompilerInternals {
  createTypeChecker(host: ts.Program): ts.TypeChecker & {
    getDiagnostics(file: ts.SourceFile): readonly ts.Diagnostic[];
    getEmitResolver(file: ts.SourceFile, token: ts.CancellationToken | undefined, skipDiagnostics: boolean): unknown;
  };
  bindSourceFile(file: ts.SourceFile, options: ts.CompilerOptions): void;
  transformNodes(resolver: unknown, host: unknown, factory: ts.NodeFactory, options: ts.CompilerOptions, nodes: readonly ts.SourceFile[],
    transformers: readonly unknown[], allowDtsFiles: boolean): ts.TransformationResult<ts.SourceFile> & { diagnostics?: ts.DiagnosticWithLocation[] };
  transformDeclarations: unknown;
  toPath(fileName: string, basePath: string, getCanonicalFileName: (name: string) => string): ts.Path;
  getSetExternalModuleIndicator(options: ts.CompilerOptions): (file: ts.SourceFile) => void;
}

/** What a program offers its type checker besides its public API. */
type ProgramInternals = ts.Program & {
  getResolvedModule(file: ts.SourceFile, name: string, mode: ts.ResolutionMode): ts.ResolvedModuleWithFailedLookupLocations | undefined;
  getSourceFileFromReference(file: ts.SourceFile, reference: ts.FileReference): ts.SourceFile | undefined;
};

/** A source file as the parser leaves it, with the fields programs set and read. */
type ParsedFile = ts.SourceFile & {
  path: ts.Path;
  resolvedPath: ts.Path;
  originalFileName: string;
  commentDirectives?: readonly unknown[];
  /** `// @ts-nocheck`: TypeScript checks nothing of the file, and the checker emits no declarations for it. */
  checkJsDirective?: unknown;
  /** What the program resolved for the file, import types included. */
  imports?: readonly ts.StringLiteralLike[];
  bindDiagnostics?: ts.DiagnosticWithLocation[];
};

/**
 * Why a cell went to the LanguageService: the cell itself (one this cannot check exactly, or one it
 * found an error in), or a history the base program cannot serve.
 */
export type NeedsProgram = 'cell' | 'history';

/** A cell found free of errors. */
export interface ResidentCheck {
  /** The cell's declarations (.d.ts), as the history takes them. */
  declarations: string;
}

/** The LanguageService's name for the cell being checked (checker.ts). */
export const CELL_FILE = '__tsgpu_cell.ts';

/**
 * Checks made by one checker before it is replaced. Each leaves its cell behind: TypeScript's checker
 * files every module it checks under the module's path in a list of identifiers to check for use
 * (allPotentiallyUnusedIdentifiers), which it never empties, so a checked cell stays reachable, parsed
 * and bound, until its checker goes (a heap snapshot finds no other path to an earlier cell).
 */
export const RESIDENT_CHECK_LIMIT = 200;
/**
 * History text one checker may parse before it is replaced. Every history it checked against stays
 * reachable from its caches, parsed and bound: with long histories that was most of its memory
 * (1,000 short cells in a row: about 1 GiB of heap before 200 checks replaced it).
 */
const HISTORY_TEXT_BUDGET = 256 * 1024;

function internals(t: typeof ts): CompilerInternals | null {
  const candidate = t as unknown as Partial<CompilerInternals>;
  const ready = typeof candidate.createTypeChecker === 'function' && typeof candidate.bindSourceFile === 'function'
    && typeof candidate.transformNodes === 'function' && typeof candidate.transformDeclarations === 'function'
    && typeof candidate.toPath === 'function' && typeof candidate.getSetExternalModuleIndicator === 'function';
  return ready ? candidate as CompilerInternals : null;
}

/** What a module specifier that is not a string literal (`import(name)`) is counted as: no program resolves it ahead. */
const UNKNOWN_MODULE = '\0unknown';

/**
 * Every module a file names: imports, re-exports and `import("x")` anywhere (the .d.ts of a cell
 * names types so; a cell may call it). The text is looked at cheaply and conservatively.
 */
function modulesOf(t: typeof ts, file: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const statement of file.statements) {
    if ((t.isImportDeclaration(statement) || t.isExportDeclaration(statement)) && statement.moduleSpecifier) {
      names.add(t.isStringLiteral(statement.moduleSpecifier) ? statement.moduleSpecifier.text : UNKNOWN_MODULE);
    }
  }
  for (const call of file.text.matchAll(/\bimport\s*\(\s*(?:(['"])([^'"]*)\1)?/g)) names.add(call[2] ?? UNKNOWN_MODULE);
  return names;
}

/** Whether a file refers to anything but `allowed` that only a program resolves. */
function needsResolution(t: typeof ts, file: ts.SourceFile, allowed: string): boolean {
  if (file.referencedFiles.length > 0 || file.typeReferenceDirectives.length > 0 || file.libReferenceDirectives.length > 0) return true;
  if (file.statements.some((statement) => t.isImportEqualsDeclaration(statement) && t.isExternalModuleReference(statement.moduleReference))) return true;
  return [...modulesOf(t, file)].some((name) => name !== allowed);
}

/** `declare global`, `declare module 'x'`, or not a module at all: would change what every file sees. */
function declaresGlobals(t: typeof ts, file: ts.SourceFile | undefined): boolean {
  if (!file || !t.isExternalModule(file)) return true;
  return file.statements.some((statement) => t.isModuleDeclaration(statement)
    && (t.isStringLiteral(statement.name) || (statement.flags & t.NodeFlags.GlobalAugmentation) !== 0));
}

/** The names a file declares at its top level (a history's: what cells import from it). */
function topLevelNames(t: typeof ts, file: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const statement of file.statements) {
    if (t.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) if (t.isIdentifier(declaration.name)) names.add(declaration.name.text);
    } else if (t.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      if (clause?.name) names.add(clause.name.text);
      const bindings = clause?.namedBindings;
      if (bindings && t.isNamespaceImport(bindings)) names.add(bindings.name.text);
      if (bindings && t.isNamedImports(bindings)) for (const element of bindings.elements) names.add(element.name.text);
    } else if ((t.isFunctionDeclaration(statement) || t.isClassDeclaration(statement) || t.isInterfaceDeclaration(statement)
      || t.isTypeAliasDeclaration(statement) || t.isEnumDeclaration(statement) || t.isModuleDeclaration(statement))
      && statement.name && t.isIdentifier(statement.name) && (statement.flags & t.NodeFlags.GlobalAugmentation) === 0) {
      names.add(statement.name.text);
    }
  }
  return names;
}

/**
 * A history's `declare global` blocks (a cell's, folded in) and `/// <reference path>`s, as one text: a checker merges them into
 * its globals once, when it is made, so it serves later histories whose blocks are the same text.
 * Module augmentations (`declare module 'pkg' { … }`) count as such blocks: the checker merges
 * them into their modules once too. Null when the history is no module, or a block refers to one of
 * the history's own declarations: the merged block would keep meaning the declaration of the history
 * the checker was made over, where a fresh program finds the latest one.
 */
function globalAugmentations(t: typeof ts, file: ts.SourceFile): string | null {
  if (!t.isExternalModule(file)) return null;
  const blocks: ts.ModuleDeclaration[] = [];
  for (const statement of file.statements) {
    // `declare module 'pkg'` in a module augments a module the program resolved: merged once, as globals are.
    if (t.isModuleDeclaration(statement) && (t.isStringLiteral(statement.name) || (statement.flags & t.NodeFlags.GlobalAugmentation) !== 0)) blocks.push(statement);
  }
  // A file the history references (a cell's `/// <reference path>`) declares globals too: the checker
  // has those of the base program's, so a history referencing others needs a new base.
  const references = file.referencedFiles.map((reference) => `/// <reference path=${JSON.stringify(reference.fileName)} />`).join('\n');
  if (file.typeReferenceDirectives.length > 0 || file.libReferenceDirectives.length > 0) return null;
  if (blocks.length === 0) return references;
  const own = topLevelNames(t, file);
  let namesOwn = false;
  const visit = (node: ts.Node): void => {
    if (t.isIdentifier(node) && own.has(node.text)) namesOwn = true;
    else if (!namesOwn) t.forEachChild(node, visit);
  };
  // The name a block's statement declares names nothing in scope (`interface Command` in an
  // augmentation of the module the history imports Command from): only what the statements refer to counts.
  const visitStatement = (statement: ts.Statement): void => {
    const name = (statement as ts.Statement & { name?: ts.Node }).name;
    t.forEachChild(statement, (child) => {
      if (child !== name) visit(child);
    });
  };
  for (const block of blocks) if (block.body && t.isModuleBlock(block.body)) block.body.statements.forEach(visitStatement);
  return namesOwn ? null : [references, ...blocks.map((block) => block.getText(file))].join('\n');
}

/** A proxy's way to everything it does not answer itself: the target's own, methods bound to it. */
function forwarded(target: object, key: string | symbol): unknown {
  const value = (target as Record<string | symbol, unknown>)[key];
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
}

export class ResidentChecker {
  private readonly checker: ReturnType<CompilerInternals['createTypeChecker']>;
  private readonly options: ts.CompilerOptions;
  private readonly historyPath: ts.Path;
  private readonly historyResolution: ts.ResolvedModuleWithFailedLookupLocations;
  /** Modules the base program resolved from the history; a history importing others needs a new base. */
  private readonly historyModules: Set<string>;
  /** The base history's `declare global` blocks (globalAugmentations): a history with others needs a new base. */
  private readonly historyGlobals: string;
  private history: ParsedFile;
  private cell: ParsedFile | null = null;
  private serial = 0;
  private checks = 0;
  private readonly emitHost: object;
  /** History text parsed and bound by this checker: it keeps every copy until it is replaced. */
  private historyTextParsed = 0;
  /**
   * The last check's texts and verdict. A cell run again unchanged (the same history) gets the same
   * verdict from the same checker: it is not parsed and checked again. The LanguageService does the
   * same for a program whose files did not change. Parsing it again costs more than time: the checker
   * keeps every cell it checked (TypeScript's list of identifiers to check for use, one per file)
   * until it is replaced, so each check leaves a few KiB that outlive young-generation collections.
   */
  private last: { text: string; historyText: string; codeLength: number; verdict: ResidentCheck | 'cell' } | null = null;

  private constructor(
    private readonly t: typeof ts,
    private readonly compiler: CompilerInternals,
    base: ProgramInternals,
    private readonly directory: string,
    private readonly historyModule: string,
    historyFile: ts.SourceFile,
    historyGlobals: string,
  ) {
    this.historyGlobals = historyGlobals;
    this.options = base.getCompilerOptions();
    this.historyPath = (historyFile as ParsedFile).path;
    this.history = historyFile as ParsedFile;
    // What the program resolved from the history: each is answered from there for later histories.
    this.historyModules = new Set((historyFile as ParsedFile).imports?.map((literal) => literal.text) ?? modulesOf(t, historyFile));
    this.historyResolution = {
      resolvedModule: { resolvedFileName: historyFile.fileName, extension: t.Extension.Ts, isExternalLibraryImport: false, resolvedUsingTsExtension: false },
    };
    // The program, but with the latest cell and history where it has its own (older) ones.
    const host = new Proxy(base, {
      get: (target, key) => {
        if (key === 'getSourceFile') return (name: string) => (name === this.cell?.fileName ? this.cell : name === historyFile.fileName ? this.history : target.getSourceFile(name));
        if (key === 'getSourceFileByPath') {
          return (filePath: ts.Path) => (filePath === this.cell?.path ? this.cell : filePath === this.historyPath ? this.history : target.getSourceFileByPath(filePath));
        }
        if (key === 'getResolvedModule') {
          return (file: ts.SourceFile, name: string, mode: ts.ResolutionMode) => {
            if (file === this.cell && name === `./${historyModule}`) return this.historyResolution;
            // The latest history's imports resolve as its first text's did (checked in check()).
            return target.getResolvedModule(file === this.history ? historyFile : file, name, mode);
          };
        }
        return forwarded(target, key);
      },
    });
    this.checker = compiler.createTypeChecker(host);
    // The declaration transform asks its host what a program's emit host answers (how to name a
    // module in an `import("x")` type, say): the program answers, but about this checker's files.
    this.emitHost = new Proxy(base, {
      get: (target, key) => {
        if (key === 'getSourceFile' || key === 'getSourceFileByPath' || key === 'getResolvedModule') return (host as unknown as Record<string, unknown>)[key];
        if (key === 'getCurrentDirectory' || key === 'getCommonSourceDirectory') return () => directory;
        if (key === 'getCanonicalFileName') return (name: string) => name;
        if (key === 'redirectTargetsMap' && !(key in target)) return new Map();
        return forwarded(target, key);
      },
    });
  }

  /**
   * Over the LanguageService's current program, whose library files are parsed and bound. Null when
   * this TypeScript lacks the internals, or the program lacks the history file.
   */
  static over(t: typeof ts, program: ts.Program, directory: string, historyModule: string): ResidentChecker | null {
    const compiler = internals(t);
    const historyFile = program.getSourceFile(path.join(directory, `${historyModule}.ts`));
    if (!compiler || !historyFile) return null;
    // Whatever the program's files declare globally, the checker keeps for good: a cell that did so
    // (and may yet be edited not to) is no base to build on. The history's `declare global` blocks
    // are, while later histories keep them as they are (check()).
    const cellFile = program.getSourceFile(path.join(directory, CELL_FILE));
    const historyGlobals = globalAugmentations(t, historyFile);
    if (historyGlobals === null || (cellFile !== undefined && declaresGlobals(t, cellFile))) return null;
    return new ResidentChecker(t, compiler, program as ProgramInternals, directory, historyModule, historyFile, historyGlobals);
  }

  /** Whether this checker has served its share of cells and should be replaced. */
  get spent(): boolean {
    return this.checks >= RESIDENT_CHECK_LIMIT || this.historyTextParsed >= HISTORY_TEXT_BUDGET;
  }

  /**
   * Checks a cell's full checker text (the user's code, then its import of the history) against
   * `historyText`; or says which of the two needs the LanguageService (see the top of this file).
   * `codeLength`: how much of `text` is the user's; a diagnostic there sends the cell to the
   * LanguageService, whose verdict the user sees (no error rests on this checker alone).
   */
  check(text: string, historyText: string, codeLength: number): ResidentCheck | NeedsProgram {
    const last = this.last;
    if (last?.text === text && last.historyText === historyText && last.codeLength === codeLength) return last.verdict;
    const verdict = this.checkAnew(text, historyText, codeLength);
    this.last = verdict === 'history' ? null : { text, historyText, codeLength, verdict };
    return verdict;
  }

  private checkAnew(text: string, historyText: string, codeLength: number): ResidentCheck | NeedsProgram {
    const t = this.t;
    if (historyText !== this.history.text) {
      const history = this.parse(path.join(this.directory, `${this.historyModule}.ts`), historyText);
      if (globalAugmentations(t, history) !== this.historyGlobals || [...modulesOf(t, history)].some((name) => !this.historyModules.has(name))) return 'history';
      history.path = this.historyPath;
      history.resolvedPath = this.historyPath;
      this.historyTextParsed += historyText.length;
      this.compiler.bindSourceFile(history, this.options);
      this.history = history;
    }
    // A name of its own each time: the checker files diagnostics by file name.
    const cell = this.parse(path.join(this.directory, `__tsgpu_cell_${++this.serial}.ts`), text);
    if (needsResolution(t, cell, `./${this.historyModule}`) || declaresGlobals(t, cell) || (cell.commentDirectives?.length ?? 0) > 0
      || cell.checkJsDirective !== undefined) return 'cell';
    this.compiler.bindSourceFile(cell, this.options);
    this.cell = cell;
    this.checks++;
    // Diagnostics past the user's code are about its link to the history, which names every earlier
    // name whether the cell uses it or not: a fresh program ignores them too (checker.ts).
    const inCode = (diagnostic: ts.Diagnostic): boolean => diagnostic.start === undefined || diagnostic.start < codeLength;
    // An error goes to the LanguageService before the declarations are emitted: it has no use for them.
    if ((cell.bindDiagnostics ?? []).some(inCode) || this.checker.getDiagnostics(cell).some(inCode)) return 'cell';
    const resolver = this.checker.getEmitResolver(cell, undefined, true);
    const emitted = this.compiler.transformNodes(resolver, this.emitHost, t.factory, this.options, [cell], [this.compiler.transformDeclarations], false);
    try {
      if ((emitted.diagnostics ?? []).some(inCode)) return 'cell';
      // As TypeScript's own declaration emit prints: JSDoc comments only.
      const printer = t.createPrinter({ removeComments: this.options.removeComments ?? false, newLine: t.NewLineKind.LineFeed, onlyPrintJsDocStyle: true } as ts.PrinterOptions);
      return { declarations: printer.printFile(emitted.transformed[0]!) };
    } finally {
      emitted.dispose();
    }
  }

  private parse(fileName: string, text: string): ParsedFile {
    const t = this.t;
    const file = t.createSourceFile(fileName, text, {
      languageVersion: this.options.target ?? t.ScriptTarget.ES2022,
      impliedNodeFormat: this.history.impliedNodeFormat,
      setExternalModuleIndicator: this.compiler.getSetExternalModuleIndicator(this.options),
    }, false) as ParsedFile;
    file.path = this.compiler.toPath(fileName, this.directory, (name) => name);
    file.resolvedPath = file.path;
    file.originalFileName = fileName;
    // What a program records of a file's imports, and TypeScript's module-specifier code reads (to
    // write a type from the history in a cell's declarations, say): the files checked here import
    // modules by their declarations only (import() sends a cell to the LanguageService).
    file.imports = file.statements.flatMap((statement) => ((t.isImportDeclaration(statement) || t.isExportDeclaration(statement))
      && statement.moduleSpecifier && t.isStringLiteral(statement.moduleSpecifier) ? [statement.moduleSpecifier] : []));
    return file;
  }
}
