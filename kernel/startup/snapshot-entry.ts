// The start-up snapshot's contents. `node --build-snapshot` runs this once (see snapshot-build.ts);
// a kernel started with `node --snapshot-blob BLOB kernel CONNECTION_FILE` then finds the kernel's
// modules and the TypeScript compiler loaded, and the standard library parsed and bound, so its
// first cell is checked without waiting for any of that.
//
// While a snapshot is built only Node's built-in modules can be required, so this file loads the
// kernel's own modules with a small CommonJS loader of its own. In the started kernel they go into
// Node's module cache, where every later require finds them, and their own requires go through
// Node's loader from then on.
//
// A file the snapshot holds that changed on disk since it was built makes the snapshot stale: the
// kernel then starts as a plain start does, from the files on disk.
//
// The top-level code of every module main.js loads runs while the snapshot is built, not when a
// kernel starts: it must not read the environment, the working directory, the clock or random
// numbers, nor start anything (timers, handles); what a kernel needs of those it reads in runKernel.
import fs from 'node:fs';
import Module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import type ts from 'typescript';

type Require = (id: string) => unknown;

interface FileStamp {
  file: string;
  size: number;
  mtimeMs: number;
}

interface LoadedModule {
  filename: string;
  module: { exports: unknown; filename: string; loaded: boolean };
  /** Node's require for this file, once the snapshot has started (null while it is built). */
  runtime: NodeJS.Require | null;
}

/** The builder's require: built-in modules only. */
const builtinRequire: Require = require;
const modules = new Map<string, LoadedModule>();

const PACKAGE_ROOT = path.resolve(__dirname, '..', '..', '..');
const DIST = path.join(PACKAGE_ROOT, 'dist');
const CLI = path.join(DIST, 'kernel', 'cli', 'main.js');

function notFound(id: string, from: string): Error {
  return Object.assign(new Error(`Cannot find module '${id}' from ${from}`), { code: 'MODULE_NOT_FOUND' });
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function asFile(base: string, id: string, from: string): string {
  for (const candidate of [base, `${base}.js`, `${base}.json`, path.join(base, 'index.js')]) {
    if (isFile(candidate)) return candidate;
  }
  throw notFound(id, from);
}

/** Node's resolution, for what the kernel's modules require at load: relative files and plain packages. */
function resolve(id: string, from: string): string {
  // As Node does, a module is known by its real path (node_modules may be a link).
  return fs.realpathSync(resolveLink(id, from));
}

function resolveLink(id: string, from: string): string {
  if (id.startsWith('./') || id.startsWith('../') || path.isAbsolute(id)) return asFile(path.resolve(path.dirname(from), id), id, from);
  const parts = id.split('/');
  const nameLength = id.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameLength).join('/');
  const subpath = parts.slice(nameLength).join('/');
  for (let dir = path.dirname(from); ; dir = path.dirname(dir)) {
    const packageDir = path.join(dir, 'node_modules', name);
    if (fs.existsSync(packageDir)) {
      if (subpath) return asFile(path.join(packageDir, subpath), id, from);
      const manifest = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { main?: string };
      return asFile(path.join(packageDir, manifest.main ?? 'index.js'), id, from);
    }
    if (path.dirname(dir) === dir) throw notFound(id, from);
  }
}

/**
 * A started snapshot's console (the object `node:console` is) lacks its `Console` class; modules
 * that make a Console of their own (output-capture.ts) get it back from here.
 */
const CONSOLE_CLASS = (builtinRequire('node:console') as { Console: unknown }).Console;

function restoreConsoleClass(): void {
  if (typeof (console as { Console?: unknown }).Console === 'function') return;
  Object.defineProperty(console, 'Console', { value: CONSOLE_CLASS, configurable: true, writable: true, enumerable: false });
}

/**
 * Built-in modules whose state does not survive a snapshot (worker_threads: a worker made by a
 * started snapshot cannot read its cwd), loaded only once a property is read in the started process.
 */
const DEFERRED_BUILTINS = new Set(['worker_threads']);

function deferredBuiltin(id: string): unknown {
  return new Proxy({}, {
    // Asked by the compiled code's import helpers while the snapshot is built: a built-in is no ES module.
    get: (_target, key) => (key === '__esModule' ? undefined : (builtinRequire(`node:${id}`) as Record<string | symbol, unknown>)[key]),
  });
}

function requireFor(record: LoadedModule): NodeJS.Require {
  const load = (id: string): unknown => {
    if (record.runtime) return record.runtime(id);
    if (DEFERRED_BUILTINS.has(id.replace(/^node:/, ''))) return deferredBuiltin(id.replace(/^node:/, ''));
    if (Module.isBuiltin(id)) return builtinRequire(id);
    return loadFile(resolve(id, record.filename));
  };
  const resolveId = (id: string, options?: { paths?: string[] }): string => {
    if (record.runtime) return record.runtime.resolve(id, options);
    if (Module.isBuiltin(id)) return id;
    return resolve(id, record.filename);
  };
  return Object.assign(load, {
    resolve: Object.assign(resolveId, { paths: (id: string) => record.runtime?.resolve.paths(id) ?? null }),
    get cache() {
      return record.runtime?.cache ?? {};
    },
    get main() {
      return record.runtime?.main;
    },
    extensions: {},
  }) as unknown as NodeJS.Require;
}

/** Loads `filename` (once), from the text of `sourceFile` where another file holds its code (the compiler's compact copy). */
function loadFile(filename: string, sourceFile = filename): unknown {
  const known = modules.get(filename);
  if (known) return known.module.exports;
  const record: LoadedModule = { filename, module: { exports: {}, filename, loaded: false }, runtime: null };
  modules.set(filename, record);
  const source = fs.readFileSync(sourceFile, 'utf8');
  if (filename.endsWith('.json')) {
    record.module.exports = JSON.parse(source);
  } else {
    const wrapped = Module.wrap(source.replace(/^#!.*/, ''));
    // A module's own `import()` (the device layer loads Dawn's binding so) goes to Node's loader,
    // as it does for a module Node loaded; without this it throws in a started snapshot. Stack
    // frames name the file whose text runs (the compact copy's positions are its own), while the
    // module knows itself by `filename` (the compiler finds its library files beside it).
    const run = new vm.Script(wrapped, { filename: sourceFile, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER }).runInThisContext() as
      (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
    run.call(record.module.exports, record.module.exports, requireFor(record), record.module, filename, path.dirname(filename));
  }
  record.module.loaded = true;
  return record.module.exports;
}

function stamp(file: string): FileStamp {
  const stat = fs.statSync(file);
  return { file, size: stat.size, mtimeMs: stat.mtimeMs };
}

/** The first file that is not as it was when the snapshot was built, or null. (snapshot-build.ts has its twin.) */
function changedFile(stamps: FileStamp[]): string | null {
  for (const { file, size, mtimeMs } of stamps) {
    try {
      const stat = fs.statSync(file);
      if (stat.size !== size || stat.mtimeMs !== mtimeMs) return file;
    } catch {
      return file;
    }
  }
  return null;
}

/** Puts the snapshot's modules into Node's module cache; their requires go through Node from now on. */
function installModules(): void {
  const cache = Module.createRequire(CLI).cache;
  const nodeModulePaths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths;
  for (const record of modules.values()) {
    const module = new Module(record.filename);
    module.filename = record.filename;
    module.paths = nodeModulePaths(path.dirname(record.filename));
    module.exports = record.module.exports;
    module.loaded = true;
    cache[record.filename] = module;
    record.runtime = Module.createRequire(record.filename);
  }
}

/**
 * Loads what a kernel's first cell needs and checks a cell once, so that the library files are
 * parsed and bound in the registry the kernel's checker will use.
 */
function warm(): FileStamp[] {
  const main = path.join(DIST, 'kernel', 'main.js');
  const typescriptFile = resolve('typescript', main);
  const load = <T>(file: string): T => loadFile(path.join(DIST, 'kernel', file)) as T;
  const { COMPACT_MANIFEST, COMPACT_SOURCE, compactCopyOf } = load<typeof import('./compact-typescript')>('startup/compact-typescript.js');
  // The compiler runs from its compact copy where one was made from the typescript.js installed.
  const compactTypescript = compactCopyOf(typescriptFile, __dirname);
  const t = loadFile(typescriptFile, compactTypescript ?? typescriptFile) as typeof ts;
  loadFile(main);
  const { CellChecker } = load<typeof import('../interpreter/typescript/checker')>('interpreter/typescript/checker.js');
  const { loadCheckerConfig } = load<typeof import('../interpreter/typescript/compiler-options')>('interpreter/typescript/compiler-options.js');
  const { CellTranspiler } = load<typeof import('../interpreter/typescript/transpile')>('interpreter/typescript/transpile.js');
  const { setWarmRegistry } = load<typeof import('./warm-start')>('startup/warm-start.js');
  const { WARM_CELLS } = load<typeof import('../interpreter/typescript/warm-cells')>('interpreter/typescript/warm-cells.js');
  const tiering = load<typeof import('../interpreter/tiering')>('interpreter/tiering.js');
  // What the CLI (run as the main module when a kernel starts) requires besides the kernel.
  load('cli/install.js');
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-snapshot-'));
  // Every file the compiler reads while warming is part of what the snapshot holds.
  const read = new Set<string>();
  const readFile = t.sys.readFile;
  t.sys.readFile = (file, encoding) => {
    read.add(path.resolve(file));
    return readFile(file, encoding);
  };
  // The compiler is warmed as a kernel runs it (interpreter/tiering.ts).
  tiering.useKernelTiering();
  try {
    const registry = t.createDocumentRegistry();
    const checker = new CellChecker(t, directory, loadCheckerConfig(t, directory), registry);
    checker.warmUp();
    // Transpiling once initialises the compiler's emit paths the first cell takes.
    const transpiler = new CellTranspiler(t);
    transpiler.transpile('const warmUp: number = 1;\nwarmUp + 1');
    // The bytecode of the checker's and emitter's paths these cells take is kept in the snapshot:
    // the first typed cells of a kernel started from it do not compile them (interpreter/typescript/warm-cells.ts).
    const checkWarmCells = (): void => {
      for (const cell of WARM_CELLS) {
        const checked = checker.check(cell);
        const errors = checked.diagnostics.filter((diagnostic) => diagnostic.category === 'error');
        if (errors.length > 0) throw new Error(`a warm-up cell does not check clean: ${errors.map((error) => error.message).join('; ')}`);
        checked.commit();
        checker.flush();
        transpiler.transpile(cell);
      }
    };
    checkWarmCells();
    // Again under `strict`, the usual project tsconfig, whose checks take paths of their own
    // (null and undefined in narrowing and relations). Its library files are the same parsed files.
    const strict = path.join(directory, 'strict');
    fs.mkdirSync(strict);
    fs.writeFileSync(path.join(strict, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true } }));
    checker.reconfigure(loadCheckerConfig(t, strict));
    checkWarmCells();
    setWarmRegistry(registry);
    const files = [...read].filter((file) => !file.startsWith(directory) && isFile(file));
    // package.json: the version the kernel reports was read from it.
    // The compact copy and its manifest, whether taken or not: a copy that becomes usable (or stops
    // being so) makes this snapshot out of date.
    const compact = [COMPACT_SOURCE, COMPACT_MANIFEST].map((name) => path.join(__dirname, name)).filter(isFile);
    return [...modules.keys(), ...compact, ...files, path.join(PACKAGE_ROOT, 'package.json')].map(stamp);
  } finally {
    tiering.leaveKernelTiering();
    t.sys.readFile = readFile;
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

const stamps = warm();
// The builder (snapshot-build.ts) keeps these beside the blob too, to tell whether it is current without starting it.
const stampsFile = process.env['TSGPU_SNAPSHOT_STAMPS'];
if (stampsFile) fs.writeFileSync(stampsFile, JSON.stringify(stamps));

/**
 * Node processes a cell starts with `process.execArgv` (child_process.fork does by default) must
 * run their own script, not start from this snapshot.
 */
function forgetSnapshotFlag(): void {
  const at = process.execArgv.findIndex((arg) => arg === '--snapshot-blob' || arg.startsWith('--snapshot-blob='));
  if (at >= 0) process.execArgv.splice(at, process.execArgv[at] === '--snapshot-blob' ? 2 : 1);
}

/**
 * The blob has loaded and this code runs: the launcher's record of this start (launch-kernel.sh)
 * goes, so that the next start does not take this one for a start that died on a damaged blob.
 */
function startSucceeded(): void {
  const dir = process.env['TSGPU_SNAPSHOT_DIR'];
  if (dir === undefined) return;
  try {
    fs.rmSync(path.join(dir, `start-${process.pid}`), { force: true });
  } catch {
    // an unwritable cache: the launcher made no marker there either
  }
}

/**
 * Runs the CLI as Node runs a script it is given, as the main module: in a plain start cells see it
 * as `require.main` (and `process.mainModule`), and so they must here. Its own requires find the
 * snapshot's modules in Node's cache.
 */
function runCli(): void {
  // Node passes the arguments after the blob as they are; the CLI expects its script first.
  process.argv.splice(1, 0, CLI);
  (Module as unknown as { _load(request: string, parent: null, isMain: boolean): unknown })._load(CLI, null, true);
}

/**
 * `kernel CONNECTION_FILE`: the protocol worker, which answers the client's kernel_info, starts
 * before the CLI and the kernel's set-up run (about 20-45 ms of them), since its own start is the
 * longest part of a start from the snapshot (main.ts).
 */
function startKernelProtocolEarly(): void {
  const [command, connectionFile] = process.argv.slice(1);
  if (command !== 'kernel' || connectionFile === undefined) return;
  const main = modules.get(path.join(DIST, 'kernel', 'main.js'))?.module.exports as typeof import('../main') | undefined;
  main?.startProtocolWorkerEarly(connectionFile);
}

v8.startupSnapshot.setDeserializeMainFunction(() => {
  startSucceeded();
  restoreConsoleClass();
  forgetSnapshotFlag();
  const changed = changedFile(stamps);
  if (changed !== null) {
    fs.writeSync(2, `[tsgpu ${new Date().toISOString()}] the start-up snapshot is out of date (${changed} changed since it was built): starting without it\n`);
    modules.clear();
  } else {
    startKernelProtocolEarly();
    installModules();
  }
  runCli();
});
