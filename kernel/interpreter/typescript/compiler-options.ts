// Which compiler options the type checker uses, and where they came from: the nearest
// tsconfig.json (or jsconfig.json) from the notebook's folder upward, as every editor reads it,
// else TypeScript's non-strict defaults (as tslab checks), then whatever `%typecheck strict|loose`
// said last. The kernel then sets the few options that make cells work at all (how cells import
// each other, what is emitted); a user's value for those is reported as ignored, never obeyed half.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type ts from 'typescript';
import { PACKAGE_ROOT } from '../../package-info';

export type Strictness = 'strict' | 'loose';

export interface CheckerConfig {
  /** What the checker runs with: the user's choices plus the kernel's own (kernelOwned). */
  options: ts.CompilerOptions;
  /** The config file read, or null for the defaults. */
  file: string | null;
  /** Set by `%typecheck strict|loose`; null while the file or the defaults decide. */
  strictness: Strictness | null;
  /** The user's options the kernel cannot honour, each with why ("outDir: nothing is written"). */
  ignored: string[];
  /** A config file that could not be used; the defaults are in force instead. */
  warning: string | null;
  /** The config file found and every file it extends, as read: an edit to any of them is seen at the next cell. */
  sources: string[];
  /** Their state when read (configStamp): another stamp means the options must be read again. */
  stamp: string;
  /** What they said when read: a new stamp with the same text (a save without an edit) changes nothing. */
  texts: string;
}

/** The strict family: `strict` turns them all on; each can still be set on its own. */
const STRICT_FAMILY = [
  'strict', 'noImplicitAny', 'noImplicitThis', 'strictNullChecks', 'strictFunctionTypes', 'strictBindCallApply',
  'strictPropertyInitialization', 'strictBuiltinIteratorReturn', 'useUnknownInCatchVariables', 'alwaysStrict',
] as const;

/** Options about writing files or building projects: a notebook writes nothing. */
const ABOUT_OUTPUT = [
  'outDir', 'outFile', 'rootDir', 'noEmit', 'declaration', 'declarationDir', 'declarationMap', 'emitDeclarationOnly',
  'sourceMap', 'inlineSourceMap', 'inlineSources', 'composite', 'incremental', 'tsBuildInfoFile', 'noEmitOnError',
  'removeComments', 'importHelpers', 'emitBOM', 'newLine', 'sourceRoot', 'mapRoot',
] as const;


function ownModules(): string {
  return path.join(PACKAGE_ROOT, 'node_modules');
}

/**
 * TypeScript's non-strict defaults, the ones tslab checks with. (TypeScript 6 turned `strict` on by
 * default; code written for tslab expects it off.) The standard library is the one the kernel's
 * Node runs; `types` brings in Node's own declarations as tsgpu's dependency provides them.
 */
function defaultOptions(t: typeof ts): ts.CompilerOptions {
  return {
    target: t.ScriptTarget.ES2022,
    lib: ['lib.es2023.d.ts'],
    types: ['node'],
    strict: false,
    esModuleInterop: true,
    skipLibCheck: true,
  };
}

/**
 * What cells need whatever the config says: each cell is checked as an ES module importing the
 * history of earlier cells (checker.ts), whose declarations are emitted and nothing else.
 */
function kernelOwned(t: typeof ts, directory: string, user: ts.CompilerOptions): ts.CompilerOptions {
  const own = ownModules();
  const userPaths = user.paths ?? {};
  return {
    module: t.ModuleKind.ESNext,
    moduleResolution: t.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    resolveJsonModule: true,
    declaration: true,
    emitDeclarationOnly: true,
    noEmit: false,
    // The user's type roots first, then tsgpu's own (where `node` and tfjs's come from).
    typeRoots: [...(user.typeRoots ?? [path.join(directory, 'node_modules', '@types')]), path.join(own, '@types')],
    // Bare imports the user's own `paths` do not map resolve from the notebook's folder, then from
    // tsgpu's own dependencies.
    paths: {
      ...userPaths,
      '*': userPaths['*'] ?? [path.join(directory, 'node_modules', '*'), path.join(own, '*'), path.join(own, '@types', '*')],
    },
  };
}

/** The user's options the kernel overrides, each said once with its reason. */
function ignoredOptions(t: typeof ts, user: ts.CompilerOptions): string[] {
  const ignored: string[] = [];
  const set = (name: string): boolean => user[name] !== undefined;
  const output = ABOUT_OUTPUT.filter(set);
  if (output.length > 0) ignored.push(`${output.join(', ')} (a notebook writes no files)`);
  const esModules = [t.ModuleKind.ES2015, t.ModuleKind.ES2020, t.ModuleKind.ES2022, t.ModuleKind.ESNext, t.ModuleKind.Preserve];
  if (user.module !== undefined && !esModules.includes(user.module)) {
    ignored.push(`module ${t.ModuleKind[user.module]?.toLowerCase() ?? user.module} (cells run as ES modules the kernel compiles itself)`);
  }
  if (user.moduleResolution !== undefined && user.moduleResolution !== t.ModuleResolutionKind.Bundler) {
    ignored.push(`moduleResolution ${t.ModuleResolutionKind[user.moduleResolution]?.toLowerCase() ?? user.moduleResolution} (imports resolve as a bundler does, from the notebook's folder)`);
  }
  if (user.verbatimModuleSyntax) ignored.push('verbatimModuleSyntax (cells import earlier cells\' types and values alike)');
  if (user.isolatedDeclarations) ignored.push('isolatedDeclarations (cells are not a library)');
  return ignored;
}

/** The error, with the file, line and column it points at where it points at one (a comma missing in tsconfig.json). */
function describe(t: typeof ts, diagnostic: ts.Diagnostic): string {
  const text = t.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
  if (diagnostic.file === undefined || diagnostic.start === undefined) return text;
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  return `${path.basename(diagnostic.file.fileName)} line ${line + 1}, column ${character + 1}: ${text}`;
}

/** tsconfig.json, else jsconfig.json, in `directory` or the nearest folder above it. */
export function findConfigFile(t: typeof ts, directory: string): string | null {
  for (let folder = path.resolve(directory); ; folder = path.dirname(folder)) {
    for (const name of ['tsconfig.json', 'jsconfig.json']) {
      const candidate = path.join(folder, name);
      if (t.sys.fileExists(candidate)) return candidate;
    }
    if (path.dirname(folder) === folder) return null;
  }
}

/**
 * The user's own options from `file` (with `extends` followed), or why they cannot be used; either
 * way the files extended, so that an edit to one of them is seen too.
 */
function readUserOptions(t: typeof ts, file: string, extended: Set<string>): { options: ts.CompilerOptions } | { error: string } {
  const read = t.readConfigFile(file, t.sys.readFile);
  if (read.error) return { error: describe(t, read.error) };
  const json: unknown = read.config;
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { error: 'it does not hold a JSON object' };
  // Which files the project holds does not matter here (cells are the files): listing none keeps
  // TypeScript from walking the folder, and its complaint that the list is empty is no error here.
  // The cache TypeScript fills while following `extends` names each file it read.
  const extendedCache = new Map<string, ts.ExtendedConfigCacheEntry>();
  const parsed = t.parseJsonConfigFileContent(
    { ...(json as object), files: [], include: [] }, t.sys, path.dirname(file), undefined, file, undefined, undefined, extendedCache);
  for (const name of extendedCache.keys()) extended.add(path.resolve(name));
  const EMPTY_FILES = 18002;
  const NO_INPUTS = 18003;
  const errors = parsed.errors.filter((diagnostic) => diagnostic.code !== EMPTY_FILES && diagnostic.code !== NO_INPUTS);
  if (errors.length > 0) return { error: errors.map((diagnostic) => describe(t, diagnostic)).join('; ') };
  const { configFilePath: _file, ...options } = parsed.options;
  return { options };
}

/** Applies `%typecheck strict|loose` over whatever the file said about the strict family. */
function withStrictness(options: ts.CompilerOptions, strictness: Strictness | null): ts.CompilerOptions {
  if (strictness === null) return options;
  const result = { ...options };
  for (const name of STRICT_FAMILY) delete result[name];
  result.strict = strictness === 'strict';
  return result;
}

/** The options for cells checked from `directory` (the notebook's folder). */
export function loadCheckerConfig(t: typeof ts, directory: string, strictness: Strictness | null = null): CheckerConfig {
  const file = findConfigFile(t, directory);
  let user: ts.CompilerOptions = defaultOptions(t);
  let warning: string | null = null;
  let ignored: string[] = [];
  const extended = new Set<string>();
  if (file !== null) {
    const read = readUserOptions(t, file, extended);
    if ('error' in read) {
      warning = `${file} could not be used (${read.error}); type checking uses the defaults. Fix the file: the next cell reads it again.`;
    } else {
      // What the file leaves unset stays as in the defaults (Node's types, the kernel's target).
      user = { ...defaultOptions(t), ...read.options };
      ignored = ignoredOptions(t, read.options);
    }
  }
  const chosen = withStrictness(user, strictness);
  const sources = file === null ? [] : [file, ...extended];
  return {
    options: { ...chosen, ...kernelOwned(t, directory, chosen) },
    file: warning === null ? file : null,
    strictness,
    ignored,
    warning,
    sources,
    stamp: configStamp(t, directory, sources),
    texts: sources.map((source) => meaningOf(t, source)).join('\0'),
  };
}

/**
 * What a config source says, as JSON without its comments and spacing (an edit of those alone
 * changes nothing); a file that does not parse, as its text; one gone or unreadable since it was
 * found, as a mark of its own.
 */
function meaningOf(t: typeof ts, source: string): string {
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (error) {
    return `unreadable: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
  }
  const parsed = t.parseConfigFileTextToJson(source, text);
  return parsed.error === undefined ? JSON.stringify(parsed.config) : text;
}

/**
 * What the options were read from, as it stands now: which config file is the nearest, and each
 * source's size and modification time. A cell compares it with the stamp its options were read
 * under (a few stat calls), so a tsconfig.json edited, created or removed beside the notebook
 * counts from the next cell on, as editors pick it up.
 */
export function configStamp(t: typeof ts, directory: string, sources: readonly string[]): string {
  const parts = [findConfigFile(t, directory) ?? 'none'];
  for (const source of sources) {
    const stat = statSync(source, { throwIfNoEntry: false });
    parts.push(stat === undefined ? `${source}: gone` : `${source}: ${stat.size} ${stat.mtimeMs}`);
  }
  return parts.join('\n');
}

/**
 * Whether two readings of the config files choose the same: an editor that saves a file unchanged
 * (or a `touch`) gives it another stamp, not other options, and nothing need be said.
 */
export function sameChoices(before: CheckerConfig, after: CheckerConfig): boolean {
  return before.file === after.file && before.sources.join('\0') === after.sources.join('\0') && before.texts === after.texts;
}

/**
 * Said at the first cell after the config file changed: what the checker reads from now on. A
 * file that cannot be used is said by its warning alone, which names the defaults in force.
 */
export function configChange(before: CheckerConfig, after: CheckerConfig): string {
  if (after.warning !== null) return configNotice(after)!;
  const now = after.file !== null ? `type checking uses ${after.file} from this cell on`
    : 'no tsconfig.json or jsconfig.json remains in this folder or above: type checking uses the defaults from this cell on';
  // `%typecheck strict|loose` outlasts an edit: a strict option the edit sets does not count while it is in force.
  const kept = after.strictness === null ? '' : `; %typecheck ${after.strictness} still sets the strict options`;
  const changed = before.sources[0] ?? after.sources[0] ?? 'tsconfig.json';
  return `${changed} changed: ${now}${kept} (%typecheck shows the options)\n${configNotice(after) ?? ''}`;
}

/** The line printed once, at the first cell, when the config file's choices are not all obeyed. */
export function configNotice(config: CheckerConfig): string | null {
  if (config.warning !== null) return `warning: ${config.warning}\n`;
  const lines: string[] = [];
  if (config.ignored.length > 0) lines.push(`${config.file}: ignored in a notebook: ${config.ignored.join('; ')}`);
  // The runtime resolves imports as Node does: an alias the checker accepts would fail when the cell runs.
  const aliases = Object.keys(config.options.paths ?? {}).filter((key) => key !== '*');
  if (aliases.length > 0) {
    lines.push(`${config.file}: paths (${aliases.join(', ')}) are for type checking only: a cell's imports run as Node resolves them, `
      + 'so import through relative paths (./lib/util) or installed packages.');
  }
  return lines.length === 0 ? null : `${lines.join('\n')}\n`;
}

/** What `%typecheck` alone prints: the options in force and where they came from. */
export function describeConfig(t: typeof ts, config: CheckerConfig, mode: string): string {
  const options = config.options;
  const source = config.file ?? (config.warning !== null ? 'defaults (the config file could not be used)' : 'defaults (no tsconfig.json or jsconfig.json in this folder or above)');
  const strictness = config.strictness === null ? '' : ` (strictness set by %typecheck ${config.strictness})`;
  // Each member of the family is on when set, else when `strict` is (always set here: see defaultOptions).
  const enabled = STRICT_FAMILY.filter((name) => (options[name] ?? options.strict) === true);
  const shown: string[] = [
    `typecheck is ${mode}`,
    `options from: ${source}${strictness}`,
    `strict: ${options.strict === true ? 'on' : enabled.length > 0 ? `partly (${enabled.join(', ')})` : 'off'}`,
    `target: ${t.ScriptTarget[options.target ?? t.ScriptTarget.ES2022]?.toLowerCase()}`,
    `lib: ${(options.lib ?? ['default']).map((lib) => lib.replace(/^lib\.|\.d\.ts$/g, '')).join(', ')}`,
    `types: ${options.types === undefined ? 'every @types package' : options.types.length === 0 ? 'none' : options.types.join(', ')}`,
  ];
  const userPaths = Object.keys(options.paths ?? {}).filter((key) => key !== '*');
  if (userPaths.length > 0) {
    shown.push(`paths: ${userPaths.join(', ')}${options.baseUrl ? ` (baseUrl ${options.baseUrl})` : ''}: for type checking only, a cell's imports run as Node resolves them`);
  }
  if (options.jsx !== undefined) shown.push(`jsx: ${t.JsxEmit[options.jsx]?.toLowerCase()}`);
  if (options.experimentalDecorators) shown.push('experimentalDecorators: on');
  if (config.ignored.length > 0) shown.push(`ignored in a notebook: ${config.ignored.join('; ')}`);
  if (config.warning !== null) shown.push(`warning: ${config.warning}`);
  return `${shown.join('\n')}\n`;
}
