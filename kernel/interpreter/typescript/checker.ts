// Type checking across cells with one long-lived TypeScript LanguageService.
// Every cell that ran stays in the program as a module of its own. A new cell is checked as a
// module that imports, from the latest cell that declared it, every name it does not declare
// itself, and exports its own names for the cells after it. The imports go at the end of the
// cell's text, so every position the user sees is the position in their own code.
import path from 'node:path';
import type ts from 'typescript';
import { PACKAGE_ROOT } from '../../package-info';
import { cellDeclarations, type DeclarationKind } from './cell-declarations';

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
  /** Records the cell as run, so later cells see its declarations. */
  commit(): void;
}

export const GLOBALS_FILE = path.join(PACKAGE_ROOT, 'kernel', 'types', 'globals.d.ts');

export function checkerCompilerOptions(t: typeof ts, directory: string): ts.CompilerOptions {
  const ownModules = path.join(PACKAGE_ROOT, 'node_modules');
  return {
    target: t.ScriptTarget.ES2022,
    module: t.ModuleKind.ESNext,
    moduleResolution: t.ModuleResolutionKind.Bundler,
    lib: ['lib.es2023.d.ts'],
    types: ['node'],
    typeRoots: [path.join(directory, 'node_modules', '@types'), path.join(ownModules, '@types')],
    // Bare imports resolve from the notebook's folder, then from tsgpu's own dependencies.
    paths: { '*': [path.join(directory, 'node_modules', '*'), path.join(ownModules, '*'), path.join(ownModules, '@types', '*')] },
    strict: true,
    // Notebook code is exploratory: an untyped parameter is not worth refusing to run a cell for.
    noImplicitAny: false,
    esModuleInterop: true,
    allowImportingTsExtensions: true,
    resolveJsonModule: true,
    skipLibCheck: true,
    noEmit: true,
  };
}

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
  private readonly committed: string[] = [];
  /** Name -> the committed cell file that declared it last, and whether it stays assignable. */
  private readonly visible = new Map<string, { file: string; kind: DeclarationKind }>();
  private readonly current: string;
  private readonly service: ts.LanguageService;
  /** Drops what was learnt about the disk (a package installed since, say). */
  private readonly forgetFileSystem: () => void;

  constructor(private readonly t: typeof ts, private readonly directory: string) {
    this.current = path.join(directory, '__tsgpu_cell.ts');
    this.files.set(this.current, { text: '', version: 0 });
    const files = this.files;
    const options = checkerCompilerOptions(t, directory);
    const diskSnapshots = new Map<string, ts.IScriptSnapshot>();
    // Each check builds a new program, which resolves every import and reference of ~160 library
    // files again: answered from memory, that costs a few ms instead of tens.
    const existingFiles = new Map<string, boolean>();
    const existingDirectories = new Map<string, boolean>();
    const realpaths = new Map<string, string>();
    const host: ts.LanguageServiceHost = {
      getScriptFileNames: () => [GLOBALS_FILE, ...this.committed, this.current],
      getScriptVersion: (file) => String(files.get(file)?.version ?? 0),
      getScriptSnapshot: (file) => {
        const virtual = files.get(file);
        if (virtual) return t.ScriptSnapshot.fromString(virtual.text);
        // Library files are read once: the service asks for every one of them on each check.
        let snapshot = diskSnapshots.get(file);
        if (!snapshot) {
          const text = t.sys.readFile(file);
          if (text === undefined) return undefined;
          snapshot = t.ScriptSnapshot.fromString(text);
          diskSnapshots.set(file, snapshot);
        }
        return snapshot;
      },
      getCurrentDirectory: () => directory,
      getCompilationSettings: () => options,
      getDefaultLibFileName: (options) => t.getDefaultLibFilePath(options),
      fileExists: (file) => files.has(file) || cached(existingFiles, file, t.sys.fileExists),
      readFile: (file) => files.get(file)?.text ?? t.sys.readFile(file),
      readDirectory: (...args) => t.sys.readDirectory(...args),
      directoryExists: (dir) => cached(existingDirectories, dir, t.sys.directoryExists),
      getDirectories: (dir) => t.sys.getDirectories(dir),
      realpath: (file) => cached(realpaths, file, (name) => t.sys.realpath?.(name) ?? name),
    };
    let modules = t.createModuleResolutionCache(directory, (name) => name, options);
    let typeReferences = t.createTypeReferenceDirectiveResolutionCache(directory, (name) => name, options, modules.getPackageJsonInfoCache());
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
      existingFiles.clear();
      existingDirectories.clear();
      realpaths.clear();
      modules = t.createModuleResolutionCache(directory, (name) => name, options);
      typeReferences = t.createTypeReferenceDirectiveResolutionCache(directory, (name) => name, options, modules.getPackageJsonInfoCache());
    };
    this.service = t.createLanguageService(host, t.createDocumentRegistry());
  }

  /** Loads the standard library and the globals once, so the first real cell is fast. */
  warmUp(): void {
    this.check('const warmUp: number = 1; warmUp.toFixed(); display;');
  }

  /** With `diagnose` false (`%typecheck off`) the cell is only prepared for commit. */
  check(code: string, diagnose = true): CheckedCell {
    const t = this.t;
    const text = this.setCurrent(code);
    let found = diagnose ? this.diagnosticsOfCurrent(code) : [];
    if (found.some((diagnostic) => diagnostic.code === CANNOT_FIND_MODULE)) {
      // Resolution answers are cached; a package installed after they were asked is found on a retry.
      this.forgetFileSystem();
      const file = this.files.get(this.current)!;
      this.files.set(this.current, { text: file.text, version: file.version + 1 });
      found = this.diagnosticsOfCurrent(code);
    }
    const diagnostics = found.map((diagnostic) => this.toCellDiagnostic(diagnostic, code));
    return {
      diagnostics,
      commit: () => {
        const file = path.join(this.directory, `__tsgpu_cell_${this.committed.length + 1}.ts`);
        this.files.set(file, { text, version: 1 });
        this.committed.push(file);
        const declared = cellDeclarations(t, t.createSourceFile(file, code, t.ScriptTarget.ES2022, false));
        for (const [name, kind] of declared.names) this.visible.set(name, { file, kind });
      },
    };
  }

  private diagnosticsOfCurrent(code: string): ts.Diagnostic[] {
    return [...this.service.getSyntacticDiagnostics(this.current), ...this.service.getSemanticDiagnostics(this.current)]
      .filter((diagnostic) => diagnostic.start === undefined || diagnostic.start < code.length);
  }

  completions(code: string, position: number): ts.CompletionInfo | undefined {
    this.setCurrent(code);
    return this.service.getCompletionsAtPosition(this.current, position, {
      includeCompletionsWithInsertText: true,
      includeCompletionsForModuleExports: false,
    });
  }

  quickInfo(code: string, position: number): ts.QuickInfo | undefined {
    this.setCurrent(code);
    return this.service.getQuickInfoAtPosition(this.current, position);
  }

  /** The checker's text for a cell: the user's code, then the links to earlier cells. */
  private setCurrent(code: string): string {
    const t = this.t;
    const own = cellDeclarations(t, t.createSourceFile(this.current, code, t.ScriptTarget.ES2022, false));
    const importsByFile = new Map<string, string[]>();
    const declarations: string[] = [];
    for (const [name, { file, kind }] of this.visible) {
      if (own.names.has(name)) continue;
      const specifier = `./${path.basename(file, '.ts')}`;
      if (kind === 'mutable') declarations.push(`declare let ${name}: typeof import('${specifier}').${name};`);
      else importsByFile.set(specifier, [...(importsByFile.get(specifier) ?? []), name]);
    }
    const imports = [...importsByFile].map(([specifier, names]) => `import { ${names.join(', ')} } from '${specifier}';`);
    const exports = [...own.names.keys()].filter((name) => !own.exported.has(name));
    const text = `${code}\n;${imports.join('')}${declarations.join('')}export { ${exports.join(', ')} };\n`;
    const file = this.files.get(this.current)!;
    if (file.text !== text) this.files.set(this.current, { text, version: file.version + 1 });
    return text;
  }

  private toCellDiagnostic(diagnostic: ts.Diagnostic, code: string): CellDiagnostic {
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
      category: categories[diagnostic.category],
    };
  }
}
