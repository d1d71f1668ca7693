// Old start-up snapshots in the user's cache. Each package folder and node binary gets a folder of
// its own there (snapshot-build.ts), of about 25 MB, and nothing else ever removes one: every
// version an npx user ran, every clone a developer built in, left its folder behind. Once a build
// succeeds, the other folders whose snapshot no longer matches the files it holds (their package
// is gone, or was rebuilt since) are removed: the launcher would never use them again, and a
// package that is still there builds its own anew at its next start, as it would have anyway.
import fs from 'node:fs';
import path from 'node:path';
import { BLOB, LOCK, START_MARKER, STAMPS, cacheRoot, processRuns, stampsCurrent } from './snapshot-build';

/** A folder with neither blob nor stamps (a build that died before writing either) is left this long: a build may be writing it. */
const LEFTOVER_AGE_MS = 24 * 60 * 60_000;

const SNAPSHOT_FOLDER = /^snapshot-[0-9a-f]{16}$/;

/** Whether something may be using a folder holding `names` now: a build (its lock, live or not: the lock's own rules say), or a start from its blob. */
function inUse(names: string[]): boolean {
  if (names.includes(LOCK)) return true;
  return names.some((name) => name.startsWith(START_MARKER) && /^[0-9]+$/.test(name.slice(START_MARKER.length))
    && processRuns(Number(name.slice(START_MARKER.length))));
}

function folderBytes(dir: string, names: string[]): number {
  return names.reduce((sum, name) => sum + (fs.statSync(path.join(dir, name), { throwIfNoEntry: false })?.size ?? 0), 0);
}

/**
 * Removes the cache's other snapshot folders that no launcher would use again (see the top of this
 * file), when `kept` (the one just built) is in the cache; returns a line saying what went, or null.
 */
export function pruneStaleSnapshots(kept: string, root = cacheRoot()): string | null {
  if (path.resolve(path.dirname(kept)) !== path.resolve(root)) return null;
  let folders: string[];
  try {
    folders = fs.readdirSync(root).filter((name) => SNAPSHOT_FOLDER.test(name) && path.join(root, name) !== path.resolve(kept));
  } catch {
    return null;
  }
  let removed = 0;
  let bytes = 0;
  for (const name of folders) {
    const dir = path.join(root, name);
    try {
      const names = fs.readdirSync(dir);
      if (inUse(names)) continue;
      const built = names.includes(STAMPS) || names.includes(BLOB);
      const stale = built ? !stampsCurrent(dir) : Date.now() - fs.statSync(dir).mtimeMs > LEFTOVER_AGE_MS;
      if (!stale) continue;
      const size = folderBytes(dir, names);
      fs.rmSync(dir, { recursive: true, force: true });
      removed++;
      bytes += size;
    } catch {
      // Another user's folder, or one removed meanwhile: left as it is.
    }
  }
  return removed === 0 ? null : `removed ${removed} old start-up snapshot folder${removed === 1 ? '' : 's'} (${(bytes / 2 ** 20).toFixed(0)} MB) from ${root}: their packages are gone or changed since they were built`;
}
