// Type checking across cells with one long-lived TypeScript LanguageService.
// A cell is checked as a module that imports every name it does not declare itself from the
// history module (history-module.ts: the declarations of every cell that ran) and exports its
// own names, from whose .d.ts the history grows once the cell has run. The imports go at the end
// of the cell's text, so every position the user sees is the position in their own code.
import path from 'node:path';
import type ts from 'typescript';
import { PACKAGE_ROOT } from '../../package-info';
import { type CellDeclarations, cellDeclarations } from './cell-declarations';
import { cellSyntax } from './cell-syntax';
import type { CheckerConfig } from './compiler-options';
import { HISTORY_MODULE, HistoryModule } from './history-module';
import { mayLoseTypes } from './declaration-warnings';
import { fileStamp } from './local-modules';
import { CELL_FILE, type ResidentCheck, ResidentChecker, type ResidentErrors } from './resident-checker';

interface VirtualFile {
  text: string;
  version: number;
}

export interface CellDiagnostic {
  /** 1-based, in the user's cell. */
  line: number;
  column: number;
  length: number;
  code: number;
  message: string;
  category: 'error' | 'warning' | 'suggestion' | 'message';
}

export interface CheckedCell {
  diagnostics: CellDiagnostic[];
  /**
   * Names whose types later cells cannot be given exactly (declaration-warnings.ts): no errors, the
   * cell runs, and the user is told. Empty when the cell has errors.
   */
  declarationWarnings: CellDiagnostic[];
  /** Records the cell as run, so later cells see its declarations. */
  commit(): void;
}

export const GLOBALS_FILE = path.join(PACKAGE_ROOT, 'kernel', 'types', 'globals.d.ts');
/** Stands in for Node's declarations until they load (see nodeTypesDeferred). */
const EARLY_GLOBALS_FILE = path.join(PACKAGE_ROOT, 'kernel', 'types', 'early-globals.d.ts');

/** The declarations `types: ['node']` brings in; parsing and binding them is most of the start-up. */
const NODE_TYPES = 'node';

const CANNOT_FIND_MODULE = 2307;

function cached<T>(cache: Map<string, T>, key: string, compute: (key: string) => T): T {
  let value = cache.get(key);
  if (value === undefined) {
    value = compute(key);
    cache.set(key, value);
  }
  return value;
}

export class CellChecker {
  private readonly files = new Map<string, VirtualFile>();
  private readonly history: HistoryModule;
  /** A cell that ran but whose declarations are not in the history yet (see flush). */
  private pending: { code: string; mutable: Set<string> } | null = null;
  /** One type checker kept across cells (resident-checker.ts); null until a program to build it on exists, or after what it was built on changed. */
  private resident: ResidentChecker | null = null;
  /** A cell's declarations as the resident checker emitted them, valid while the history is as it was then. */
  private residentDeclarations: { code: string; history: string; text: () => string } | null = null;
  private lastDeclarations: { code: string; declarations: CellDeclarations } | null = null;
  private readonly current: string;
  private readonly historyFile: string;
  /** Declarations added once a layer loads (the tensor API once a cell touches tensors). */
  private readonly declarationFiles: string[] = [];
  private readonly service: ts.LanguageService;
  private readonly host: ts.LanguageServiceHost;
  private readonly registry: ts.DocumentRegistry;
  /** Node's declaration files still to parse ahead (prefetchDeferredTypes); null until the first step finds the first. */
  private prefetchQueue: string[] | null = null;
  private readonly prefetched = new Set<string>();
  /** Drops what was learnt about the disk (a package installed since, say). */
  private readonly forgetFileSystem: () => void;
  /** Reads again the notebook's own files (util.ts beside it) that changed on disk since the checker read them. */
  private readonly followEditedFiles: () => void;
  private config: CheckerConfig;
  /**
   * Node's declarations (@types/node) are two thirds of the checker's start-up (measured: 2.5 s of
   * 3.7 s under load, and ~50 MiB). Until loadDeferredTypes() runs, in the background once the
   * kernel is idle, cells are checked without them; a cell that has any error then is checked again
   * with them, so no verdict ever rests on the smaller set.
   */
  private nodeTypesDeferred: boolean;
  private effective: ts.CompilerOptions;

  /** Cells the resident checker found free of errors (the rest went to the LanguageService). */
  residentChecks = 0;
  /** Cells with errors whose diagnostics the resident checker gave alone (SELF_EVIDENT), with no LanguageService check. */
  residentErrors = 0;
  /** Completion lists the resident checker made (the rest came from the LanguageService). */
  residentCompletionLists = 0;

  /**
   * `registry` may hold library files parsed and bound already (a start-up snapshot's): files it
   * holds for the same options are taken from it instead of parsed again. `keepChecker` checks cells
   * with one type checker kept across them (resident-checker.ts); without it, every cell goes through
   * the LanguageService alone. It is on unless TSGPU_KEEP_CHECKER=off: it cuts a typed cell's check by
   * about half (bench/checker-profile.ts).
   */
  constructor(private readonly t: typeof ts, private readonly directory: string, config: CheckerConfig, registry: ts.DocumentRegistry = t.createDocumentRegistry(),
    private readonly keepChecker = process.env['TSGPU_KEEP_CHECKER'] !== 'off') {
    this.config = config;
    this.registry = registry;
    this.nodeTypesDeferred = config.options.types?.includes(NODE_TYPES) ?? false;
    this.effective = this.effectiveOptions();
    this.current = path.join(directory, CELL_FILE);
    this.historyFile = path.join(directory, `${HISTORY_MODULE}.ts`);
    this.history = new HistoryModule(t);
    this.files.set(this.current, { text: '', version: 0 });
    this.files.set(this.historyFile, { text: this.history.text(), version: 0 });
    const files = this.files;
    const diskSnapshots = new Map<string, ts.IScriptSnapshot>();
    // Files outside node_modules (the notebook's own modules) may be edited mid-session: they are
    // stamped when read, and a new stamp gives them a new version (followEditedFiles).
    const ownFiles = new Map<string, string>();
    const diskVersions = new Map<string, number>();
    // Each check builds a new program, which resolves every import and reference of ~160 library
    // files again: answered from memory, that costs a few ms instead of tens.
    const existingFiles = new Map<string, boolean>();
    const existingDirectories = new Map<string, boolean>();
    const realpaths = new Map<string, string>();
    const host: ts.LanguageServiceHost = {
      getScriptFileNames: () => [GLOBALS_FILE, ...(this.nodeTypesDeferred ? [EARLY_GLOBALS_FILE] : []), ...this.declarationFiles, this.historyFile, this.current],
      getScriptVersion: (file) => String(files.get(file)?.version ?? diskVersions.get(file) ?? 0),
      getScriptSnapshot: (file) => {
        const virtual = files.get(file);
        if (virtual) return t.ScriptSnapshot.fromString(virtual.text);
        // Library files are read once: the service asks for every one of them on each check.
        let snapshot = diskSnapshots.get(file);
        if (!snapshot) {
          if (!file.split(path.sep).includes('node_modules')) ownFiles.set(file, fileStamp(file));
          const text = t.sys.readFile(file);
          if (text === undefined) return undefined;
          snapshot = t.ScriptSnapshot.fromString(text);
          diskSnapshots.set(file, snapshot);
        }
        return snapshot;
      },
      getCurrentDirectory: () => directory,
      // Without it the service takes paths as case-insensitive and lower-cases them: in a notebook
      // folder whose name has capitals it looked for `./` files in a folder that does not exist
      // (no completions in `require("./")`), while the kept checker, keeping the case, found them.
      useCaseSensitiveFileNames: () => t.sys.useCaseSensitiveFileNames,
      getCompilationSettings: () => this.effective,
      getDefaultLibFileName: (options) => t.getDefaultLibFilePath(options),
      fileExists: (file) => files.has(file) || cached(existingFiles, file, t.sys.fileExists),
      readFile: (file) => files.get(file)?.text ?? t.sys.readFile(file),
      readDirectory: (...args) => t.sys.readDirectory(...args),
      directoryExists: (dir) => cached(existingDirectories, dir, t.sys.directoryExists),
      getDirectories: (dir) => t.sys.getDirectories(dir),
      realpath: (file) => cached(realpaths, file, (name) => t.sys.realpath?.(name) ?? name),
    };
    let modules = t.createModuleResolutionCache(directory, (name) => name, config.options);
    let typeReferences = t.createTypeReferenceDirectiveResolutionCache(directory, (name) => name, config.options, modules.getPackageJsonInfoCache());
    host.resolveModuleNameLiterals = (literals, containingFile, redirected, compilerOptions, containingSourceFile) => literals.map(
      (literal) => t.resolveModuleName(literal.text, containingFile, compilerOptions, host, modules, redirected,
        t.getModeForUsageLocation(containingSourceFile, literal, compilerOptions)));
    // Shares package.json lookups (each file's module format) across programs too.
    (host as ts.LanguageServiceHost & { getModuleResolutionCache(): ts.ModuleResolutionCache }).getModuleResolutionCache = () => modules;
    host.resolveTypeReferenceDirectiveReferences = (references, containingFile, redirected, compilerOptions, containingSourceFile) => references.map(
      (reference) => t.resolveTypeReferenceDirective(typeof reference === 'string' ? reference : reference.fileName.toLowerCase(),
        containingFile, compilerOptions, host, redirected, typeReferences,
        typeof reference === 'string' ? undefined : t.getModeForFileReference(reference, containingSourceFile?.impliedNodeFormat)));
    this.forgetFileSystem = () => {
      this.resident = null;
      existingFiles.clear();
      existingDirectories.clear();
      realpaths.clear();
      modules = t.createModuleResolutionCache(directory, (name) => name, this.config.options);
      typeReferences = t.createTypeReferenceDirectiveResolutionCache(directory, (name) => name, this.config.options, modules.getPackageJsonInfoCache());
    };
    this.followEditedFiles = () => {
      let edited = false;
      for (const [file, stamp] of ownFiles) {
        if (fileStamp(file) === stamp) continue;
        ownFiles.delete(file);
        diskSnapshots.delete(file);
        diskVersions.set(file, (diskVersions.get(file) ?? 0) + 1);
        edited = true;
      }
      // The kept checker's program holds the old file; a deleted file must not be found from memory either.
      if (edited) this.forgetFileSystem();
    };
    this.host = host;
    this.service = t.createLanguageService(host, registry);
  }

  /** The options in force and where they came from. */
  get configuration(): CheckerConfig {
    return this.config;
  }

  /** Checks later cells (and completes, inspects) with other options: `%typecheck strict`, say. */
  reconfigure(config: CheckerConfig): void {
    this.config = config;
    this.nodeTypesDeferred &&= config.options.types?.includes(NODE_TYPES) ?? false;
    this.effective = this.effectiveOptions();
    // Resolution answers depend on the options (paths, types): start those caches afresh.
    this.forgetFileSystem();
  }

  /** What parsing a cell depends on, for is_complete: the target and JSX setting checks use. */
  syntaxOptions(): ts.CompilerOptions {
    const { target, jsx, experimentalDecorators } = this.config.options;
    return Object.fromEntries(Object.entries({ target, jsx, experimentalDecorators }).filter(([, value]) => value !== undefined));
  }

  /** Loads the standard library and the globals once, so the first real cell is fast. */
  warmUp(): void {
    this.check('const warmUp: number = 1; warmUp.toFixed(); display;');
    // The first check left a kept checker; a second takes the path every later clean cell takes,
    // so the first user cell does not compile that path's code (a first `1+1` spent ~12 ms there).
    this.check('const warmUpAgain: string = "1"; warmUpAgain.length;');
    // A clean cell's declarations are emitted once the history asks for them (flush): this warm-up
    // emits them too, so the first user cell does not compile the declaration transform's code, and drops them.
    this.residentDeclarations?.text();
    this.residentDeclarations = null;
  }

  /** Whether Node's declarations are still to load (loadDeferredTypes). */
  get deferring(): boolean {
    return this.nodeTypesDeferred;
  }

  /** Loads Node's declarations, and checks once so the next cell finds them parsed and bound. */
  loadDeferredTypes(): void {
    if (this.includeNodeTypes()) this.warmUp();
  }

  /**
   * Parses and binds one more of Node's declaration files ahead of loadDeferredTypes, into the
   * registry the LanguageService takes its files from, exactly as its program would (same options,
   * text and version): its program then finds them ready. Parsing and binding them was two thirds of
   * that load (CPU profile of a first error: 1.3 s parsing, 0.3 s binding of 2.5 s). One file per
   * call, so a caller can give a request its turn between files. False once nothing is left, or
   * Node's declarations are not deferred. Whatever is missed (a file found only by the program's own
   * resolution) is parsed by the program itself: this changes when work is done, never its result.
   */
  prefetchDeferredTypes(): boolean {
    if (!this.nodeTypesDeferred) return false;
    const t = this.t;
    const options = this.config.options;
    if (this.prefetchQueue === null) {
      const index = t.resolveTypeReferenceDirective(NODE_TYPES, path.join(this.directory, '__tsgpu_types.ts'), options, t.sys).resolvedTypeReferenceDirective?.resolvedFileName;
      this.prefetchQueue = index === undefined ? [] : [index];
      if (index !== undefined) this.prefetched.add(index);
    }
    const file = this.prefetchQueue.shift();
    if (file === undefined) return false;
    const snapshot = this.host.getScriptSnapshot(file);
    const moduleIndicator = (t as unknown as { getSetExternalModuleIndicator?: (options: ts.CompilerOptions) => (file: ts.SourceFile) => void }).getSetExternalModuleIndicator;
    if (snapshot !== undefined && typeof moduleIndicator === 'function') {
      // The options a program parses the file with: the registry files a document under its module format too.
      const fileOptions: ts.CreateSourceFileOptions = {
        languageVersion: options.target ?? t.ScriptTarget.ES2022,
        impliedNodeFormat: t.getImpliedNodeFormatForFile(file as ts.Path, undefined, t.sys, options),
        setExternalModuleIndicator: moduleIndicator(options),
      };
      const parsed = this.registry.acquireDocument(file, options, snapshot, this.host.getScriptVersion(file), t.ScriptKind.TS, fileOptions);
      // Binding is TypeScript's internal step after parsing (resident-checker.ts uses it too); a file bound once stays bound.
      const bind = (t as unknown as { bindSourceFile?: (file: ts.SourceFile, options: ts.CompilerOptions) => void }).bindSourceFile;
      if (typeof bind === 'function') bind(parsed, options);
      const next = (name: string | undefined): void => {
        if (name !== undefined && name.endsWith('.d.ts') && !this.prefetched.has(name)) {
          this.prefetched.add(name);
          this.prefetchQueue!.push(name);
        }
      };
      for (const reference of parsed.referencedFiles) next(path.resolve(path.dirname(file), reference.fileName));
      for (const reference of parsed.typeReferenceDirectives) {
        next(t.resolveTypeReferenceDirective(reference.fileName, file, options, t.sys).resolvedTypeReferenceDirective?.resolvedFileName);
      }
      for (const match of parsed.text.matchAll(/\b(?:from\s*|import\s*\(\s*)(['"])([^'"]+)\1/g)) {
        next(t.resolveModuleName(match[2]!, file, options, t.sys).resolvedModule?.resolvedFileName);
      }
    }
    return true;
  }

  /** True if Node's declarations were deferred until now. */
  private includeNodeTypes(): boolean {
    if (!this.nodeTypesDeferred) return false;
    this.nodeTypesDeferred = false;
    this.effective = this.effectiveOptions();
    this.resident = null;
    return true;
  }

  private effectiveOptions(): ts.CompilerOptions {
    const options = this.config.options;
    return this.nodeTypesDeferred ? { ...options, types: options.types?.filter((name) => name !== NODE_TYPES) ?? [] } : options;
  }

  /** With `diagnose` false (`%typecheck off`) the cell is only prepared for commit. */
  check(code: string, diagnose = true): CheckedCell {
    this.followEditedFiles();
    this.flush();
    const text = this.setCurrent(code);
    const resident = diagnose ? this.checkedResident(code, text) : 'none';
    if (typeof resident === 'object' && 'declarationWarnings' in resident) {
      return this.checkedCell(code, [], resident.declarationWarnings.map((diagnostic) => this.toCellDiagnostic(diagnostic, code, 'warning')));
    }
    if (typeof resident === 'object' && 'errors' in resident && !this.nodeTypesDeferred) {
      this.residentErrors++;
      return this.checkedCell(code, resident.errors.map((diagnostic) => this.toCellDiagnostic(diagnostic, code)));
    }
    // An error the kept checker found without Node's declarations: the verdict is theirs to give,
    // so the same check without them is not made first (the verdict with them stands either way).
    const erred = resident === 'errors' || typeof resident === 'object';
    if (erred && this.nodeTypesDeferred) this.includeNodeTypes();
    let found = diagnose ? this.diagnosticsOfCurrent(code) : [];
    if (found.length > 0 && this.nodeTypesDeferred) {
      // Perhaps only Node's declarations were missing: the verdict is theirs to give.
      this.includeNodeTypes();
      found = this.diagnosticsOfCurrent(code);
    }
    if (found.some((diagnostic) => diagnostic.code === CANNOT_FIND_MODULE)) {
      // Resolution answers are cached; a package installed after they were asked is found on a retry.
      this.forgetFileSystem();
      this.bump(this.current);
      found = this.diagnosticsOfCurrent(code);
    }
    // The program just checked has the library parsed and bound: the next cells can keep one checker over it.
    if (diagnose && this.keepChecker && this.resident === null) this.resident = ResidentChecker.over(this.t, this.service.getProgram()!, path.dirname(this.current), HISTORY_MODULE);
    const diagnostics = found.map((diagnostic) => this.toCellDiagnostic(diagnostic, code));
    const warnings = diagnose && !diagnostics.some((diagnostic) => diagnostic.category === 'error') ? this.declarationWarningsOfCurrent(code) : [];
    return this.checkedCell(code, diagnostics, warnings.map((diagnostic) => this.toCellDiagnostic(diagnostic, code, 'warning')));
  }

  /**
   * What the resident checker found: the cell free of errors (ResidentCheck), errors a fresh program gives
   * word for word (ResidentErrors), errors only the LanguageService words as the user must see them
   * ('errors'), or nothing ('none': a cell or history it cannot check, or no resident checker).
   */
  private checkedResident(code: string, text: string): ResidentCheck | ResidentErrors | 'errors' | 'none' {
    if (this.resident?.spent) this.resident = null;
    if (this.resident === null) return 'none';
    const history = this.files.get(this.historyFile)!.text;
    let checked: ReturnType<ResidentChecker['check']>;
    try {
      checked = this.resident.check(text, history, code.length);
    } catch {
      // TypeScript's internals asked something the kept checker cannot answer: the LanguageService can.
      checked = 'history';
    }
    if (checked === 'history') this.resident = null; // rebuilt over the next program the LanguageService makes
    if (checked === 'errors') return 'errors';
    if (typeof checked === 'string') return 'none';
    if ('errors' in checked) return checked;
    this.residentDeclarations = { code, history, text: checked.declarations };
    this.residentChecks++;
    return checked;
  }

  private checkedCell(code: string, diagnostics: CellDiagnostic[], declarationWarnings: CellDiagnostic[] = []): CheckedCell {
    return {
      diagnostics,
      declarationWarnings,
      commit: () => {
        const own = this.declarationsOf(code);
        // A cell that declares nothing (`1 + 1`, a call) leaves the history as it is.
        if (own.names.size === 0 && own.blocks.modules.size === 0 && own.references.length === 0) return;
        // A sub-cell (%time's) committed while its cell ran goes into the history first, in run order.
        this.flush();
        this.pending = { code, mutable: new Set([...own.names].filter(([, kind]) => kind === 'mutable').map(([name]) => name)) };
      },
    };
  }

  /**
   * Adds the last committed cell's declarations to the history. Cheap enough to run at the next
   * check, and run sooner, once the cell's reply is out, by the interpreter.
   */
  flush(): void {
    const pending = this.pending;
    if (pending === null) return;
    this.pending = null;
    const historyEntry = this.files.get(this.historyFile)!;
    const known = this.residentDeclarations;
    this.residentDeclarations = null;
    let declarations: string | undefined;
    if (known?.code === pending.code && known.history === historyEntry.text) declarations = known.text();
    else {
      this.setCurrent(pending.code);
      declarations = this.service.getEmitOutput(this.current, true, true).outputFiles.find((file) => file.name.endsWith('.d.ts'))?.text;
    }
    if (declarations === undefined) return;
    this.history.add(declarations, pending.mutable, this.declarationsOf(pending.code).references);
    // A cell run again with the same declarations (the usual edit-and-rerun) leaves the history's
    // text as it was: keeping its version lets the next program reuse its parsed file.
    const text = this.history.text();
    const entry = this.files.get(this.historyFile)!;
    if (entry.text !== text) this.files.set(this.historyFile, { text, version: entry.version + 1 });
  }

  /** The declaration emit's diagnostics of the current cell, where it may have any (declaration-warnings.ts). */
  private declarationWarningsOfCurrent(code: string): ts.Diagnostic[] {
    const program = this.service.getProgram()!;
    const file = program.getSourceFile(this.current);
    if (!file || !mayLoseTypes(this.t, file, code.length)) return [];
    return program.getDeclarationDiagnostics(file).filter((diagnostic) => diagnostic.start === undefined || diagnostic.start < code.length);
  }

  /**
   * The program's semantic diagnostics of the cell, without the LanguageService's declaration
   * diagnostics (it adds them under `declaration: true`). Those judge the .d.ts the history takes,
   * whose `export`s are the kernel's and not the user's: `const A = class { private x = 1 }` is
   * valid TypeScript, but its declaration emit says "Property 'x' of exported anonymous class type
   * may not be private" (TS4094). Such a cell runs, with a warning (declarationWarningsOfCurrent).
   */
  private diagnosticsOfCurrent(code: string): ts.Diagnostic[] {
    const program = this.service.getProgram()!;
    // Syntax errors were reported by the transpiler already; a cell with any never gets here.
    return program.getSemanticDiagnostics(program.getSourceFile(this.current))
      .filter((diagnostic) => diagnostic.start === undefined || diagnostic.start < code.length);
  }

  addDeclarations(file: string): void {
    if (this.declarationFiles.includes(file)) return;
    this.declarationFiles.push(file);
    this.resident = null;
  }

  /** Every name cells have declared so far. */
  userNames(): string[] {
    this.flush();
    return [...this.history.names().keys()];
  }

  /** What a name declared by an earlier cell is (earlier names reach a cell as imports, `alias`). */
  earlierKind(name: string): string | undefined {
    return this.history.kindOf(name);
  }

  completions(code: string, position: number): ts.CompletionInfo | undefined {
    this.includeNodeTypes(); // a completion list must hold Node's names too
    this.followEditedFiles();
    this.flush();
    const text = this.setCurrent(code);
    const preferences: ts.UserPreferences = { includeCompletionsWithInsertText: true, includeCompletionsForModuleExports: false };
    const kept = this.residentCompletions(text, position, preferences);
    if (kept !== 'none') return kept;
    return this.service.getCompletionsAtPosition(this.current, position, preferences);
  }

  /** The kept checker's completions, made over the LanguageService's program where there is none yet; 'none' where it cannot give them. */
  private residentCompletions(text: string, position: number, preferences: ts.UserPreferences): ts.CompletionInfo | undefined | 'none' {
    if (!this.keepChecker) return 'none';
    if (this.resident?.spent) this.resident = null;
    // Node's declarations just joined (a completion list needs them), or no cell was checked since: a program is made once, not per request.
    this.resident ??= ResidentChecker.over(this.t, this.service.getProgram()!, path.dirname(this.current), HISTORY_MODULE);
    if (this.resident === null) return 'none';
    let listed: ReturnType<ResidentChecker['completions']>;
    try {
      listed = this.resident.completions(text, this.files.get(this.historyFile)!.text, position, this.host, preferences);
    } catch {
      // TypeScript's internals asked something the kept checker cannot answer: the LanguageService can.
      listed = 'history';
    }
    if (listed === 'history') this.resident = null;
    if (typeof listed === 'string') return 'none';
    this.residentCompletionLists++;
    return listed;
  }

  quickInfo(code: string, position: number): ts.QuickInfo | undefined {
    this.includeNodeTypes();
    this.followEditedFiles();
    this.flush();
    this.setCurrent(code);
    return this.service.getQuickInfoAtPosition(this.current, position);
  }

  /** Where the name at `position` is declared (a library's .d.ts included), for inspection. */
  definitions(code: string, position: number): readonly ts.DefinitionInfo[] {
    this.followEditedFiles();
    this.flush();
    this.setCurrent(code);
    return this.service.getDefinitionAtPosition(this.current, position) ?? [];
  }

  /** A declaration file the checker reads (tfjs's mat_mul.d.ts), parsed. */
  sourceFile(fileName: string): ts.SourceFile | undefined {
    return this.service.getProgram()?.getSourceFile(fileName);
  }

  /** Quick info at a place in such a file (`matMul_`, whose JSDoc `matMul` borrows through `typeof`). */
  quickInfoIn(fileName: string, position: number): ts.QuickInfo | undefined {
    return this.service.getQuickInfoAtPosition(fileName, position);
  }

  /** A cell's own declarations; asked for three times per cell (check, commit, flush), parsed once. */
  private declarationsOf(code: string): CellDeclarations {
    if (this.lastDeclarations?.code !== code) {
      this.lastDeclarations = { code, declarations: cellDeclarations(this.t, cellSyntax(this.t, code)) };
    }
    return this.lastDeclarations.declarations;
  }

  /** The checker's text for a cell: the user's code, then its link to the history. */
  private setCurrent(code: string): string {
    const own = this.declarationsOf(code);
    const imported: string[] = [];
    const assignable: string[] = [];
    for (const [name, mutable] of this.history.names()) {
      if (own.names.has(name)) continue;
      // Imports are read-only; a let or var of an earlier cell must stay assignable.
      if (mutable) assignable.push(`declare let ${name}: typeof import('./${HISTORY_MODULE}').${name};`);
      else imported.push(name);
    }
    // What the cell's own global or module blocks declare anew replaces the history's (HistoryModule.text).
    const historyText = this.history.text(own.blocks);
    const history = this.files.get(this.historyFile)!;
    if (history.text !== historyText) this.files.set(this.historyFile, { text: historyText, version: history.version + 1 });
    const exports = [...own.names.keys()].filter((name) => !own.exported.has(name));
    const text = `${code}\n;import { ${imported.join(', ')} } from './${HISTORY_MODULE}';${assignable.join('')}export { ${exports.join(', ')} };\n`;
    const entry = this.files.get(this.current)!;
    if (entry.text !== text) this.files.set(this.current, { text, version: entry.version + 1 });
    return text;
  }

  private bump(file: string): void {
    const entry = this.files.get(file)!;
    this.files.set(file, { text: entry.text, version: entry.version + 1 });
  }

  /** `category`: as TypeScript says, unless given (a declaration emit's error is the user's warning). */
  private toCellDiagnostic(diagnostic: ts.Diagnostic, code: string, category?: CellDiagnostic['category']): CellDiagnostic {
    const t = this.t;
    const start = diagnostic.start ?? 0;
    const before = code.slice(0, start);
    const line = before.split('\n').length;
    const lineStart = before.lastIndexOf('\n') + 1;
    const categories = { [t.DiagnosticCategory.Error]: 'error', [t.DiagnosticCategory.Warning]: 'warning', [t.DiagnosticCategory.Suggestion]: 'suggestion', [t.DiagnosticCategory.Message]: 'message' } as const;
    return {
      line,
      column: [...code.slice(lineStart, start)].length + 1,
      length: diagnostic.length ?? 0,
      code: diagnostic.code,
      message: t.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
      category: category ?? categories[diagnostic.category],
    };
  }
}
