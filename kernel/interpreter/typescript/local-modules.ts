// The notebook's own TypeScript modules (`import { f } from './util'`), followed on disk: a user
// edits util.ts beside the notebook and runs another cell, and expects that cell to see the edit,
// as the editor beside it does. Node's require cache would keep the first version for the
// session, and names imported by earlier cells would keep pointing into it.
//
// Before each cell, a module whose file changed since it loaded loads again, and so do the local
// modules that import it, directly or through others (they must see the edit too); the names
// earlier cells imported from them are bound again, unless a cell has since given the name another
// value. Other modules stay loaded as they are: their state (a store a cell filled, tensors they
// made) is the user's, and an edit elsewhere must not reset it. What the reloaded modules made
// before (objects of their old classes, say) stays as it was.
import { readFileSync, statSync } from 'node:fs';
import Module, { SourceMap } from 'node:module';
import path from 'node:path';
import { isInterruptError } from '../cell-context';

/** What a file looked like when read: size and modification time, or that it was missing. */
export function fileStamp(file: string): string {
  try {
    const stat = statSync(file);
    return `${stat.size}:${stat.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/** What Node's module cache holds for a loaded file: the modules it required. */
interface CachedModule {
  children?: { filename: string }[];
}

/** The edited files and the loaded files that require one of them, directly or through others. */
function dependents(edited: string[], loaded: string[], cache: Record<string, CachedModule | undefined>): Set<string> {
  const stale = new Set(edited);
  let grew = true;
  while (grew) {
    grew = false;
    for (const file of loaded) {
      if (stale.has(file)) continue;
      // A file no longer in the cache (its load failed) cannot be known not to import an edited one.
      const children = cache[file]?.children;
      if (children === undefined || children.some((child) => stale.has(child.filename))) {
        stale.add(file);
        grew = true;
      }
    }
  }
  return stale;
}

/** A name a cell's import bound on globalThis, and the value it bound. */
interface ImportedName {
  file: string;
  imported: string;
  value: unknown;
}

/** What following the edits did before a cell: the files found edited, the names bound again, those the new version no longer exports, what failed. */
export interface ReloadOutcome {
  edited: string[];
  rebound: string[];
  gone: { local: string; imported: string; file: string }[];
  failed: { file: string; message: string }[];
}

export class LocalModules {
  /** Local modules compiled this session, by file, with their file's stamp when they loaded. */
  private readonly loaded = new Map<string, string>();
  /** Which file an import's namespace object came from (importFile makes one per import). */
  private readonly namespaces = new WeakMap<object, string>();
  /** Names on globalThis that cells imported from local modules. */
  private readonly imported = new Map<string, ImportedName>();
  /** Each local module's source map, from its emitted JavaScript back to its TypeScript. */
  private readonly sourceMaps = new Map<string, SourceMap>();

  constructor(private readonly load: (file: string) => Record<string, unknown>, private readonly pick: (namespace: Record<string, unknown>, imported: string) => unknown) {}

  /** Called as a local module compiles (the require hook): its file is followed from now on. */
  compiled(file: string): void {
    this.loaded.set(file, fileStamp(file));
  }

  /** The emitted JavaScript's source map, once the module is compiled. */
  mapped(file: string, sourceMapText: string | undefined): void {
    if (sourceMapText === undefined) this.sourceMaps.delete(file);
    else this.sourceMaps.set(file, new SourceMap(JSON.parse(sourceMapText) as ConstructorParameters<typeof SourceMap>[0]));
  }

  /** A 1-based line:column of a local module's emitted code, in its TypeScript source; null for a file that is not one. */
  sourcePosition(file: string, line: number, column: number): { line: number; column: number } | null {
    const entry = this.sourceMaps.get(file)?.findEntry(line - 1, column - 1) as { originalLine?: number; originalColumn?: number } | undefined;
    if (entry?.originalLine === undefined || entry.originalColumn === undefined) return null;
    return { line: entry.originalLine + 1, column: entry.originalColumn + 1 };
  }

  namespaceFrom(namespace: Record<string, unknown>, file: string): Record<string, unknown> {
    this.namespaces.set(namespace, file);
    return namespace;
  }

  /** A cell's import bound `local` on globalThis from `namespace`. */
  bound(namespace: Record<string, unknown>, local: string, imported: string, value: unknown): void {
    const file = this.namespaces.get(namespace);
    if (file === undefined) this.imported.delete(local);
    else this.imported.set(local, { file, imported, value });
  }

  /** Whether a local module's file changed since it loaded (followEdits has work to do). */
  anyEdited(): boolean {
    for (const [file, stamp] of this.loaded) if (fileStamp(file) !== stamp) return true;
    return false;
  }

  /** Before a cell: loads the edited local modules and those importing them again, and binds their imported names again. */
  followEdits(): ReloadOutcome | null {
    const edited = [...this.loaded].filter(([file, stamp]) => fileStamp(file) !== stamp).map(([file]) => file);
    if (edited.length === 0) return null;
    const cache = (Module as unknown as { _cache: Record<string, CachedModule | undefined> })._cache;
    const stale = dependents(edited, [...this.loaded.keys()], cache);
    for (const file of stale) delete cache[file];
    // Forgotten even where loading fails below: the next import of the file tries again, and the
    // failure is told once, not before every cell.
    for (const file of stale) this.loaded.delete(file);
    const outcome: ReloadOutcome = { edited, rebound: [], gone: [], failed: [] };
    const global = globalThis as Record<string, unknown>;
    const byFile = new Map<string, [string, ImportedName][]>();
    for (const entry of this.imported) {
      if (stale.has(entry[1].file)) byFile.set(entry[1].file, [...(byFile.get(entry[1].file) ?? []), entry]);
    }
    for (const [file, names] of byFile) {
      let namespace: Record<string, unknown>;
      try {
        namespace = this.load(file);
      } catch (error) {
        // An interrupt stops the whole reload and the cell; the next edit of the file tries again.
        if (isInterruptError(error)) throw error;
        outcome.failed.push({ file, message: error instanceof Error ? error.message : String(error) });
        continue;
      }
      for (const [local, name] of names) {
        // A cell gave the name another value since: that value is the user's, not the import's.
        if (global[local] !== name.value) {
          this.imported.delete(local);
          continue;
        }
        // Removed or renamed: the cell's name keeps the old value, and the user is told so (the
        // checker no longer knows its type, and would not object to any use of it).
        if (name.imported !== '*' && name.imported !== 'default' && !(name.imported in namespace)) {
          outcome.gone.push({ local, imported: name.imported, file });
          continue;
        }
        const value = name.imported === '*' ? namespace : this.pick(namespace, name.imported);
        global[local] = value;
        name.value = value;
        outcome.rebound.push(local);
      }
    }
    return outcome;
  }
}

/** Relative module names in a file's text (static and dynamic imports, re-exports, requires). */
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g;
/** How far the local modules a cell imports are read for the device layer's look at them. */
const MAX_LOCAL_SOURCES = 64;

/**
 * The text of the local modules `code` imports, directly or through each other: what the layers
 * look at before a cell runs (the device layer loads when code names `tf`, and a module's use of
 * it counts as the cell's). Only files a relative name finds, as the runtime resolves them.
 */
export function localModuleSources(code: string, directory: string, fileFor: (base: string) => string | undefined): string[] {
  const texts: string[] = [];
  const seen = new Set<string>();
  const queue: [string, string][] = [[code, directory]];
  for (let next = queue.shift(); next !== undefined && seen.size < MAX_LOCAL_SOURCES; next = queue.shift()) {
    const [text, from] = next;
    for (const match of text.matchAll(RELATIVE_IMPORT)) {
      const file = fileFor(path.resolve(from, match[2]!));
      if (file === undefined || seen.has(file)) continue;
      seen.add(file);
      try {
        const source = readFileSync(file, 'utf8');
        texts.push(source);
        queue.push([source, path.dirname(file)]);
      } catch {
        // unreadable: the runtime's error will say so
      }
    }
  }
  return texts;
}

