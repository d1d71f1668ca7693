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
// the ones the checker was made with. A cell this finds an error in keeps its verdict here only
// when every error is of a kind whose text cannot depend on what the checker met before
// (SELF_EVIDENT); any other error is checked again through the LanguageService, whose text the user sees.
import path from 'node:path';
import type ts from 'typescript';
import { mayLoseTypes } from './declaration-warnings';

/** TypeScript's internals this relies on: present since 5.0, all on the module object. */
interface CompilerInternals {
  createTypeChecker(host: ts.Program): ts.TypeChecker & {
    getDiagnostics(file: ts.SourceFile): readonly ts.Diagnostic[];
    /** Diagnostics of no file ("Cannot find global type 'X'"): the checker reports each once in its life. */
    getGlobalDiagnostics(): readonly ts.Diagnostic[];
    getEmitResolver(file: ts.SourceFile, token: ts.CancellationToken | undefined, skipDiagnostics: boolean): unknown;
  };
  bindSourceFile(file: ts.SourceFile, options: ts.CompilerOptions): void;
  transformNodes(resolver: unknown, host: unknown, factory: ts.NodeFactory, options: ts.CompilerOptions, nodes: readonly ts.SourceFile[],
    transformers: readonly unknown[], allowDtsFiles: boolean): ts.TransformationResult<ts.SourceFile> & { diagnostics?: ts.DiagnosticWithLocation[] };
  transformDeclarations: unknown;
  toPath(fileName: string, basePath: string, getCanonicalFileName: (name: string) => string): ts.Path;
  getSetExternalModuleIndicator(options: ts.CompilerOptions): (file: ts.SourceFile) => void;
  /** What the LanguageService's getCompletionsAtPosition calls once it has its program: any program, any checker. */
  Completions?: {
    getCompletionsAtPosition(host: ts.LanguageServiceHost, program: ts.Program, log: (message: string) => void, file: ts.SourceFile, position: number,
      preferences: ts.UserPreferences, triggerCharacter: undefined, completionKind: undefined, cancellationToken: ts.CancellationToken,
      formatContext: undefined): ts.CompletionInfo | undefined;
  };
}

const NEVER_CANCELLED: ts.CancellationToken = {
  isCancellationRequested: () => false,
  throwIfCancellationRequested: () => undefined,
};

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
 * Why a cell went to the LanguageService: the cell itself (one this cannot check exactly), errors
 * whose text only a fresh program gives word for word (see SELF_EVIDENT), or a history (or a
 * state of this checker) the base program cannot serve.
 */
export type NeedsProgram = 'cell' | 'errors' | 'history';

/** A cell found free of errors. */
export interface ResidentCheck {
  /**
   * The cell's declarations (.d.ts), as the history takes them. Emitted and printed when first
   * asked: the history takes them once the cell's reply is out (checker.ts flush), so the
   * declaration transform is no part of the cell's round trip. Asked at most before the next check
   * of this checker.
   */
  declarations(): string;
  /** What the declaration emit could not write down (declaration-warnings.ts), where the cell may have any: no errors, the cell runs. */
  declarationWarnings: readonly ts.Diagnostic[];
}

/** A cell found to have errors, every one of a kind whose text does not depend on what the checker saw before (SELF_EVIDENT). */
export interface ResidentErrors {
  /** As a program lists them: bind, then check; positions in the cell's text. */
  errors: readonly ts.Diagnostic[];
}

/**
 * Errors whose message names only what the cell's text spells (a name, a keyword, a count), never
 * a type. A type's text can differ between this checker and a fresh one: unions list their members
 * in the order the checker first made them (a literal type made by an earlier cell comes first),
 * an interned union prints as the form it was first made in (`keyof P` or `"x" | "y"`), and the
 * member an elaboration picks follows that order. A kept checker has made types in another order
 * than a fresh program checking one cell, so an error that prints a type is checked again by the
 * LanguageService; one of these, alone on its line (no elaboration chain), is the same text in both.
 */
export const SELF_EVIDENT: ReadonlySet<number> = new Set([
  1155, // 'const' declarations must be initialized.
  1308, // 'await' expressions are only allowed within async functions…
  2300, // Duplicate identifier '{0}'.
  2304, // Cannot find name '{0}'.
  2341, // Property '{0}' is private and only accessible within class '{1}'.
  2355, // A function whose declared type is neither 'undefined', 'void', nor 'any' must return a value.
  2362, // The left-hand side of an arithmetic operation must be of type 'any', 'number', 'bigint' or an enum type.
  2363, // The right-hand side of an arithmetic operation must be of type …
  2364, // The left-hand side of an assignment expression must be a variable or a property access.
  2366, // Function lacks ending return statement and return type does not include 'undefined'.
  2445, // Property '{0}' is protected and only accessible within class '{1}' and its subclasses.
  2448, // Block-scoped variable '{0}' used before its declaration.
  2449, // Class '{0}' used before its declaration.
  2450, // Enum '{0}' used before its declaration.
  2451, // Cannot redeclare block-scoped variable '{0}'.
  2454, // Variable '{0}' is used before being assigned.
  2531, 2532, 2533, // Object is possibly 'null' / 'undefined' / both.
  2540, // Cannot assign to '{0}' because it is a read-only property.
  2552, // Cannot find name '{0}'. Did you mean '{1}'?
  2554, // Expected {0} arguments, but got {1}.
  2555, // Expected at least {0} arguments, but got {1}.
  2564, // Property '{0}' has no initializer and is not definitely assigned in the constructor.
  2571, // Object is of type 'unknown'.
  2580, 2582, 2583, 2584, 2591, // Cannot find name '{0}'. Do you need to install type definitions / change your target library?
  2588, // Cannot assign to '{0}' because it is a constant.
  2630, // Cannot assign to '{0}' because it is a function.
  2632, // Cannot assign to '{0}' because it is an import.
  2693, // '{0}' only refers to a type, but is being used as a value here.
  2729, // Property '{0}' is used before its initialization.
  2749, // '{0}' refers to a value, but is being used as a type here. Did you mean 'typeof {0}'?
  2774, // This condition will always return true since this function is always defined…
  7005, 7006, 7031, // Variable / parameter / binding element '{0}' implicitly has an 'any' type.
  18004, // No value exists in scope for the shorthand property '{0}'…
  18046, // '{0}' is of type 'unknown'.
  18047, 18048, 18049, // '{0}' is possibly 'null' / 'undefined' / both.
]);

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

/** Whether two sets of module names are the same: a history importing fewer modules than the base program would find fewer files, and fewer globals, in a fresh program. */
function sameModules(names: ReadonlySet<string>, base: ReadonlySet<string>): boolean {
  return names.size === base.size && [...names].every((name) => base.has(name));
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
  /**
   * The modules the base history names, as modulesOf reads them: a later history naming fewer
   * would have a fresh program hold fewer files (and their globals) than the base does.
   */
  private readonly historyModulesNamed: Set<string>;
  /** The base history's `declare global` blocks (globalAugmentations): a history with others needs a new base. */
  private readonly historyGlobals: string;
  private history: ParsedFile;
  private cell: ParsedFile | null = null;
  private serial = 0;
  private checks = 0;
  private readonly emitHost: object;
  /** The program as the checker sees it (its latest cell and history), whose type checker is this one: for completions. */
  private readonly program: ts.Program;
  /** History text parsed and bound by this checker: it keeps every copy until it is replaced. */
  private historyTextParsed = 0;
  /**
   * The last check's texts and verdict. A cell run again unchanged (the same history) gets the same
   * verdict from the same checker: it is not parsed and checked again. The LanguageService does the
   * same for a program whose files did not change. Parsing it again costs more than time: the checker
   * keeps every cell it checked (TypeScript's list of identifiers to check for use, one per file)
   * until it is replaced, so each check leaves a few KiB that outlive young-generation collections.
   */
  private last: { text: string; historyText: string; codeLength: number; verdict: ResidentCheck | ResidentErrors | 'cell' | 'errors' } | null = null;

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
    this.historyModulesNamed = modulesOf(t, historyFile);
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
        if (key === 'getTypeChecker') return () => this.checker;
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
    this.program = host;
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
    // A cell importing a package brings its files into the program, and whatever globals they
    // declare, which a fresh program for a later cell (not importing it) does not have.
    if (historyGlobals === null || (cellFile !== undefined && (declaresGlobals(t, cellFile) || needsResolution(t, cellFile, `./${historyModule}`)))) return null;
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
  check(text: string, historyText: string, codeLength: number): ResidentCheck | ResidentErrors | NeedsProgram {
    const last = this.last;
    if (last?.text === text && last.historyText === historyText && last.codeLength === codeLength) return last.verdict;
    const verdict = this.checkAnew(text, historyText, codeLength);
    this.last = verdict === 'history' ? null : { text, historyText, codeLength, verdict };
    return verdict;
  }

  /**
   * The history swapped for `historyText` and the cell parsed and bound as this checker's latest
   * file; or which of the two needs the LanguageService.
   */
  private prepare(text: string, historyText: string): ParsedFile | NeedsProgram {
    const t = this.t;
    if (historyText !== this.history.text) {
      const history = this.parse(path.join(this.directory, `${this.historyModule}.ts`), historyText);
      const modules = modulesOf(t, history);
      if (globalAugmentations(t, history) !== this.historyGlobals || [...modules].some((name) => !this.historyModules.has(name))
        || !sameModules(modules, this.historyModulesNamed)) return 'history';
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
    return cell;
  }

  /**
   * The completions at `position` of a cell's checker text, as the LanguageService lists them over a
   * fresh program; or which of the two needs the LanguageService. A completion request built a new
   * program and a new type checker each time (9–11 ms p50 for `box.ma`), the library's global types
   * instantiated afresh for a list whose names depend on none of that.
   */
  completions(text: string, historyText: string, position: number, host: ts.LanguageServiceHost, preferences: ts.UserPreferences): ts.CompletionInfo | undefined | NeedsProgram {
    const completions = this.compiler.Completions;
    if (completions === undefined) return 'cell';
    // The last verdict's declarations are emitted against the latest cell: a check of it again must find it so.
    this.last = null;
    const cell = this.prepare(text, historyText);
    if (typeof cell === 'string') return cell;
    return completions.getCompletionsAtPosition(host, this.program, () => undefined, cell, position, preferences, undefined, undefined, NEVER_CANCELLED, undefined);
  }

  private checkAnew(text: string, historyText: string, codeLength: number): ResidentCheck | ResidentErrors | NeedsProgram {
    const t = this.t;
    const cell = this.prepare(text, historyText);
    if (typeof cell === 'string') return cell;
    // Diagnostics past the user's code are about its link to the history, which names every earlier
    // name whether the cell uses it or not: a fresh program ignores them too (checker.ts).
    // As a program does (filterSemanticDiagnostics): a diagnostic skipped under an option in force is no diagnostic.
    const options = this.options as Record<string, unknown>;
    const inCode = (diagnostic: ts.Diagnostic): boolean => (diagnostic.start === undefined || diagnostic.start < codeLength)
      && !((diagnostic as ts.Diagnostic & { skippedOn?: string }).skippedOn !== undefined && options[(diagnostic as ts.Diagnostic & { skippedOn: string }).skippedOn]);
    // As a program lists them (getSemanticDiagnostics): bind, then check. The declaration emit's own
    // diagnostics are no verdict on the cell (see CellChecker.diagnosticsOfCurrent).
    const errors = [...(cell.bindDiagnostics ?? []), ...this.checker.getDiagnostics(cell)].filter(inCode);
    // A diagnostic of no file is one this checker reports once in its life, where every fresh
    // program reports it for each cell that meets it: its verdicts no longer stand for a fresh program's.
    if (this.checker.getGlobalDiagnostics().length > 0) return 'history';
    if (errors.length > 0) return errors.every((diagnostic) => this.selfEvident(diagnostic, cell)) ? { errors } : 'errors';
    const emit = (): ts.TransformationResult<ts.SourceFile> & { diagnostics?: ts.DiagnosticWithLocation[] } =>
      this.compiler.transformNodes(this.checker.getEmitResolver(cell, undefined, true), this.emitHost, t.factory, this.options, [cell], [this.compiler.transformDeclarations], false);
    // Where the cell may hold a type its .d.ts cannot write, the transform runs now, for its warnings;
    // elsewhere when the history asks for the declarations, once the cell's reply is out (it is a
    // third of a clean cell's check).
    let emitted = mayLoseTypes(t, cell, codeLength) ? emit() : null;
    const declarationWarnings = (emitted?.diagnostics ?? []).filter(inCode);
    let declarations: string | undefined;
    return {
      declarationWarnings,
      declarations: () => {
        if (declarations === undefined) {
          emitted ??= emit();
          try {
            // As TypeScript's own declaration emit prints: JSDoc comments only.
            const printer = t.createPrinter({ removeComments: this.options.removeComments ?? false, newLine: t.NewLineKind.LineFeed, onlyPrintJsDocStyle: true } as ts.PrinterOptions);
            declarations = printer.printFile(emitted.transformed[0]!);
          } finally {
            emitted.dispose();
          }
        }
        return declarations;
      },
    };
  }

  /**
   * Whether a fresh program gives this diagnostic word for word: in the cell, of a kind that prints
   * no type (SELF_EVIDENT), one message with no chain below it, and not naming this checker's own
   * file name for the cell (a fresh program's is another).
   */
  private selfEvident(diagnostic: ts.Diagnostic, cell: ParsedFile): boolean {
    return diagnostic.file === cell && diagnostic.start !== undefined && typeof diagnostic.messageText === 'string'
      && SELF_EVIDENT.has(diagnostic.code) && !diagnostic.messageText.includes(CELL_FILE.slice(0, -3));
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
