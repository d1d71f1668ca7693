// Helpers that rewritten cells call at run time (as `__tsgpu.import(...)`, see cell-rewrite.ts).
// Imports resolve from the notebook's folder first, then from tsgpu's own dependencies, so a
// package tsgpu ships (tfjs) works in an empty folder.
import { readFileSync, statSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import type ts from 'typescript';
import { PACKAGE_ROOT } from '../../package-info';
import { CELL_TIMER_NAMES, CELL_TIMER_VALUES, loopLine, loopTick } from '../cell-context';
import { importMetaAsLocal, withImportMeta } from './import-meta';
import { RUNTIME } from './cell-rewrite';
import { LocalModules } from './local-modules';

type Importer = (specifier: string) => Promise<Record<string, unknown>>;

/** A dynamic import() whose bare specifiers resolve from `directory`, as from a module there. */
function importerFrom(directory: string): Importer {
  return new vm.Script('(specifier) => import(specifier)', {
    filename: path.join(directory, '[tsgpu import]'),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  }).runInThisContext() as Importer;
}

const TS_EXTENSIONS = ['.ts', '.mts', '.cts', '.tsx'];
/** `./helper.js` names helper.ts in TypeScript's module resolution (the style NodeNext asks for): the TypeScript files a JavaScript name may stand for. */
const TS_FOR_JS: Record<string, string[]> = { '.js': ['.ts', '.tsx'], '.jsx': ['.tsx'], '.mjs': ['.mts'], '.cjs': ['.cts'] };

/** `file`, and where it has a JavaScript extension, the TypeScript files of the same name that may stand for it. */
function withTypeScriptTwins(file: string): string[] {
  const extension = path.extname(file);
  return [file, ...(TS_FOR_JS[extension] ?? []).map((twin) => file.slice(0, -extension.length) + twin)];
}

/** The file a relative import of `base` (resolved) loads, as importFile looks for it. */
export function localFileFor(base: string): string | undefined {
  return [...withTypeScriptTwins(base).slice(1), ...CANDIDATE_SUFFIXES.map((suffix) => base + suffix)].find(isFile);
}

/** A file of the notebook's own (not a package's). */
function isLocal(file: string | undefined): file is string {
  return file !== undefined && path.isAbsolute(file) && !file.split(path.sep).includes('node_modules');
}
const CANDIDATE_SUFFIXES = ['', '.ts', '.tsx', '.mts', '.js', '.mjs', '.cjs', '/index.ts', '/index.js'];
/** Frames an error keeps: enough to reach the cell from inside tfjs-layers (see install()). */
const STACK_FRAMES_KEPT = 100;

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

export class CellRuntime {
  private readonly fromNotebook: Importer;
  private readonly fromTsgpu: Importer;
  /** Modules the kernel provides itself, by specifier (`tsgpu`). */
  readonly builtins = new Map<string, Record<string, unknown>>();
  /** Stand-ins used only when the notebook's folder does not have the real module (`tslab`). */
  readonly fallbacks = new Map<string, Record<string, unknown>>();
  /** What the user's options say modules run as (transpile.ts emitOptionsOf): decorators, class fields, JSX. */
  moduleEmitOptions: ts.CompilerOptions = {};
  /** The notebook's own TypeScript modules, loaded again when edited on disk (local-modules.ts). */
  readonly localModules = new LocalModules((file) => this.loadTypeScript(file), (namespace, name) => (name === 'default' ? this.defaultExport(namespace) : namespace[name]));

  constructor(private readonly t: typeof ts, private readonly directory: string) {
    this.fromNotebook = importerFrom(directory);
    this.fromTsgpu = importerFrom(path.join(PACKAGE_ROOT, 'dist'));
    this.registerTypeScriptFiles();
    this.resolveForLocalModules();
  }

  /** Read at each iteration of the cells' own loops (text-emit.ts, cell-rewrite.ts loopChecks), and called when it is set: stops one whose cell was interrupted. */
  readonly line = loopLine;
  readonly loop = loopTick;

  install(): void {
    Object.defineProperty(globalThis, RUNTIME, { value: this, enumerable: false, configurable: true });
    // An error raised inside a library call is far below the cell's own frame (a DeviceError in
    // a Dense model's predict: 49 frames down): with V8's default of 10 the cell's line and caret
    // are lost. Each Error costs more to make (about 3 → 10 µs at 60 frames deep), not to throw.
    Error.stackTraceLimit = Math.max(Error.stackTraceLimit, STACK_FRAMES_KEPT);
  }

  /**
   * A cell's function body as a function whose frames are named `fileName` (`<cell 3>`) in stack
   * traces. The timer functions are its parameters, so the cell's code and every function it
   * defines use the cell-aware ones (cell-context.ts) while libraries keep Node's own.
   */
  compile(functionBody: string, fileName: string): () => unknown {
    const cell = vm.compileFunction(functionBody, CELL_TIMER_NAMES, { filename: fileName }) as (...timers: unknown[]) => unknown;
    return function withCellTimers(this: unknown) {
      return cell.apply(this, CELL_TIMER_VALUES);
    };
  }

  async import(specifier: string): Promise<Record<string, unknown>> {
    const builtin = this.builtins.get(specifier);
    if (builtin) return builtin;
    if (specifier.startsWith('.') || path.isAbsolute(specifier)) return this.importFile(specifier);
    try {
      return await this.fromNotebook(specifier);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
      const fallback = this.fallbacks.get(specifier);
      if (fallback) return fallback;
      try {
        return await this.fromTsgpu(specifier);
      } catch {
        throw error; // the notebook folder's error names the place the user expects
      }
    }
  }

  /**
   * Binds an import's names on globalThis (see cell-rewrite.ts). A named binding the module does
   * not export at run time is a type the checker saw: it binds nothing, rather than undefined.
   */
  bindImports(namespace: Record<string, unknown>, bindings: [string, string][]): void {
    const global = globalThis as Record<string, unknown>;
    for (const [local, imported] of bindings) {
      if (imported === 'default') global[local] = this.defaultExport(namespace);
      else if (imported === '*') global[local] = namespace;
      else if (imported in namespace) global[local] = namespace[imported];
      else continue;
      this.localModules.bound(namespace, local, imported, global[local]);
    }
  }

  /** `require` for cells: from the notebook's folder, with the kernel's own and stand-in modules. */
  requireFor(base: NodeJS.Require): NodeJS.Require {
    const runtime = this;
    const cellRequire = function require(id: string): unknown {
      const builtin = runtime.builtins.get(id);
      if (builtin) return builtin;
      try {
        return base(id);
      } catch (error) {
        const fallback = (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' ? runtime.fallbacks.get(id) : undefined;
        if (fallback) return fallback;
        throw error;
      }
    };
    return Object.assign(cellRequire, { resolve: base.resolve, cache: base.cache, main: base.main, extensions: base.extensions }) as NodeJS.Require;
  }

  /** `import x from 'm'`: CommonJS modules compiled from ESM keep their default in `.default`. */
  defaultExport(namespace: Record<string, unknown>): unknown {
    const value = namespace['default'];
    if (value && typeof value === 'object' && (value as { __esModule?: unknown }).__esModule && 'default' in value) {
      return (value as { default: unknown }).default;
    }
    return value;
  }

  private async importFile(specifier: string): Promise<Record<string, unknown>> {
    const base = path.resolve(this.directory, specifier);
    const file = localFileFor(base);
    if (!file) throw Object.assign(new Error(`Cannot find module '${specifier}' (looked for ${base} with .ts, .js, .mjs)`), { code: 'ERR_MODULE_NOT_FOUND' });
    if (TS_EXTENSIONS.includes(path.extname(file))) return this.localModules.namespaceFrom(this.loadTypeScript(file), file);
    return this.fromNotebook(pathToFileURL(file).href);
  }

  /** TypeScript next to the notebook, compiled to CommonJS by the hook below; its namespace as an import sees it. */
  private loadTypeScript(file: string): Record<string, unknown> {
    const exports = Module.createRequire(file)(file) as Record<string, unknown>;
    return { ...exports, default: exports['default'] ?? exports };
  }

  /**
   * What a local module requires resolves as a cell's import does: `./helper.js` to helper.ts where
   * only that exists, and a package the notebook's folder lacks from tsgpu's own (`tsgpu` itself,
   * `@tensorflow/tfjs`). Packages' own requires are left to Node.
   */
  private resolveForLocalModules(): void {
    type Resolve = (request: string, parent: { filename?: string } | undefined, isMain: boolean, options?: unknown) => string;
    const moduleInternals = Module as unknown as { _resolveFilename: Resolve; _cache: Record<string, unknown> };
    const resolve = moduleInternals._resolveFilename;
    const fromTsgpu = Module.createRequire(path.join(PACKAGE_ROOT, 'dist', '[tsgpu]'));
    const runtime = this;
    moduleInternals._resolveFilename = function resolveFilename(request, parent, isMain, options) {
      try {
        return resolve.call(this, request, parent, isMain, options);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND' || !isLocal(parent?.filename)) throw error;
        if (request.startsWith('.') || path.isAbsolute(request)) {
          const twin = withTypeScriptTwins(path.resolve(path.dirname(parent.filename), request)).slice(1).find(isFile);
          if (twin !== undefined) return twin;
          throw error;
        }
        const provided = runtime.builtins.get(request) ?? runtime.fallbacks.get(request);
        if (provided !== undefined) {
          // Served from Node's module cache under a name no file has.
          const id = `[tsgpu] ${request}`;
          moduleInternals._cache[id] ??= { id, filename: id, loaded: true, exports: provided, children: [], paths: [] };
          return id;
        }
        try {
          return fromTsgpu.resolve(request);
        } catch {
          throw error; // the module's own folder's error names the place the user expects
        }
      }
    };
  }

  private registerTypeScriptFiles(): void {
    const t = this.t;
    const extensions = (Module as unknown as { _extensions: Record<string, (module: { _compile(code: string, file: string): void }, file: string) => void> })._extensions;
    for (const extension of TS_EXTENSIONS) {
      extensions[extension] = (module, file) => {
        // Stamped before it is read: an edit landing in between is seen as one before the next cell.
        const local = isLocal(file);
        if (local) this.localModules.compiled(file);
        const importMeta = importMetaAsLocal(t);
        const output = t.transpileModule(readFileSync(file, 'utf8'), {
          // A .mts file is emitted as ESM whatever the module option; Node then loads it through
          // its ESM loader, whose cache a reload cannot clear (an edit would be told but never
          // run). As CommonJS it loads, and loads again, like the notebook's other modules.
          fileName: extension === '.mts' ? `${file.slice(0, -'.mts'.length)}.ts` : file,
          compilerOptions: { target: t.ScriptTarget.ES2022, module: t.ModuleKind.CommonJS, esModuleInterop: true, sourceMap: true, ...this.moduleEmitOptions },
          transformers: { before: [importMeta.transformer] },
        });
        // Kept for tracebacks: an error inside the module shows the module's own line (traceback.ts).
        if (local) this.localModules.mapped(file, output.sourceMapText);
        module._compile(importMeta.used() ? withImportMeta(output.outputText) : output.outputText, file);
      };
    }
  }
}
