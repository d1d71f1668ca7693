// Where a start-up snapshot lives and how it is built (its contents: snapshot-entry.ts).
//
// A snapshot only works with the node binary that built it and is tens of MB, so it is never part
// of the package: it is built per user (a kernelspec installed for many users finds each one's
// own), into a cache folder per package folder and node binary, by `tsgpu install` or, once a
// kernel started without one, in the background. Next to the blob,
// `identity` records the node binary's and the blob's device, inode, size and mtime: the launcher
// (kernel/cli/assets/launch-kernel.sh) uses the blob only while both still match, so a replaced
// node or a damaged blob means a plain start, never a kernel that cannot start. Whether the
// kernel's code and the compiler's files are still those the snapshot holds is checked by the
// snapshot itself when it starts (snapshot-entry.ts).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { log } from '../log';
import { PACKAGE_ROOT } from '../package-info';

export const BLOB = 'kernel.blob';
export const IDENTITY = 'identity';
/** The files the snapshot holds, with their sizes and mtimes when it was built. */
const STAMPS = 'stamps.json';
const LOCK = 'build.lock';
/** A lock older than this was left by a build that died. */
const STALE_LOCK_MS = 10 * 60_000;
const BUILD_TIMEOUT_MS = 5 * 60_000;

/** The environment variable through which the launcher tells a kernel where its snapshot belongs. */
export const SNAPSHOT_DIR_ENV = 'TSGPU_SNAPSHOT_DIR';

/** The user's cache folder for tsgpu, as the launcher finds it too (launch-kernel.sh). */
function cacheRoot(): string {
  const own = process.env['TSGPU_CACHE_DIR'];
  if (own) return own;
  if (process.platform === 'win32') return path.join(process.env['LOCALAPPDATA'] ?? os.homedir(), 'tsgpu', 'cache');
  return path.join(process.env['XDG_CACHE_HOME'] || path.join(process.env['HOME'] ?? os.homedir(), '.cache'), 'tsgpu');
}

/** Names this package folder with this node binary: the kernelspec carries it, each user's cache has a folder of that name. */
export function snapshotKey(nodeBinary = process.execPath): string {
  return createHash('sha256').update(`${PACKAGE_ROOT}\0${nodeBinary}`).digest('hex').slice(0, 16);
}

/** The folder for this package folder's snapshot built by this node binary, in this user's cache. */
export function snapshotDir(nodeBinary = process.execPath): string {
  return path.join(cacheRoot(), `snapshot-${snapshotKey(nodeBinary)}`);
}

/** What the launcher compares: device, inode, size and mtime (whole seconds), as `stat -L -c '%d:%i:%s:%Y'` prints them. */
export function fileIdentity(file: string): string {
  const stat = fs.statSync(file);
  return `${stat.dev}:${stat.ino}:${stat.size}:${Math.floor(stat.mtimeMs / 1000)}`;
}

export function identityLine(nodeBinary: string, blob: string): string {
  return `${fileIdentity(nodeBinary)} ${fileIdentity(blob)}`;
}

/** Whether `dir` holds a blob the launcher would use with this node binary. */
export function snapshotUsable(dir: string, nodeBinary = process.execPath): boolean {
  try {
    return fs.readFileSync(path.join(dir, IDENTITY), 'utf8').trim() === identityLine(nodeBinary, path.join(dir, BLOB));
  } catch {
    return false;
  }
}

interface FileStamp {
  file: string;
  size: number;
  mtimeMs: number;
}

/** Whether `dir` holds a blob the launcher would use, and that holds the files on disk now. */
export function snapshotCurrent(dir: string, nodeBinary = process.execPath): boolean {
  if (!snapshotUsable(dir, nodeBinary)) return false;
  try {
    const stamps = JSON.parse(fs.readFileSync(path.join(dir, STAMPS), 'utf8')) as FileStamp[];
    return stamps.every(({ file, size, mtimeMs }) => {
      const stat = fs.statSync(file, { throwIfNoEntry: false });
      return stat !== undefined && stat.size === size && stat.mtimeMs === mtimeMs;
    });
  } catch {
    return false;
  }
}

/** Takes the build lock, or says why not (another build is under way). */
function lock(dir: string): (() => void) | null {
  const file = path.join(dir, LOCK);
  try {
    if (Date.now() - fs.statSync(file).mtimeMs > STALE_LOCK_MS) fs.rmSync(file, { force: true });
  } catch {
    // no lock
  }
  try {
    fs.closeSync(fs.openSync(file, 'wx'));
  } catch {
    return null;
  }
  return () => fs.rmSync(file, { force: true });
}

/**
 * Builds the snapshot into `dir` (a few seconds of one core), checks that a process starts from it,
 * and only then puts it where the launcher looks. Returns null, or why it was not built.
 */
export function buildSnapshot(dir = snapshotDir()): string | null {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (error) {
    return `its folder cannot be made (${(error as Error).message}); set TSGPU_CACHE_DIR to a folder you can write`;
  }
  const unlock = lock(dir);
  if (!unlock) return 'another build of the snapshot is under way';
  const partial = path.join(dir, `${BLOB}.${process.pid}.partial`);
  const stamps = path.join(dir, `${STAMPS}.${process.pid}.partial`);
  // While a snapshot is built, the entry script has no `exports`; this one gives snapshot-entry.js a module.
  const shim = path.join(dir, `entry.${process.pid}.js`);
  const entry = path.join(PACKAGE_ROOT, 'dist', 'kernel', 'startup', 'snapshot-entry.js');
  try {
    fs.writeFileSync(shim, [
      `const file = ${JSON.stringify(entry)};`,
      "const module = { exports: {} };",
      "const source = require('node:fs').readFileSync(file, 'utf8');",
      "const run = new (require('node:vm').Script)(require('node:module').wrap(source), { filename: file }).runInThisContext();",
      "run.call(module.exports, module.exports, require, module, file, require('node:path').dirname(file));",
      '',
    ].join('\n'));
    const built = spawnSync(process.execPath, ['--snapshot-blob', partial, '--build-snapshot', shim], {
      cwd: dir, encoding: 'utf8', timeout: BUILD_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TSGPU_SNAPSHOT_STAMPS: stamps },
    });
    if (built.status !== 0 || !fs.existsSync(partial)) {
      return `building it failed (${built.error?.message ?? `exit ${built.status ?? built.signal}`}): ${lastLines(built.stderr)}`;
    }
    // The blob must start a process that runs the CLI before any launcher may use it.
    const tried = spawnSync(process.execPath, ['--snapshot-blob', partial, 'help'],
      { cwd: dir, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    if (tried.status !== 0 || !tried.stdout.startsWith('tsgpu ')) {
      return `a process started from it did not run (${tried.error?.message ?? `exit ${tried.status ?? tried.signal}`}): ${lastLines(tried.stderr)}`;
    }
    const blob = path.join(dir, BLOB);
    fs.renameSync(stamps, path.join(dir, STAMPS));
    fs.renameSync(partial, blob);
    const identity = path.join(dir, `${IDENTITY}.${process.pid}.partial`);
    fs.writeFileSync(identity, `${identityLine(process.execPath, blob)}\n`);
    fs.renameSync(identity, path.join(dir, IDENTITY));
    return null;
  } finally {
    fs.rmSync(partial, { force: true });
    fs.rmSync(stamps, { force: true });
    fs.rmSync(shim, { force: true });
    unlock();
  }
}

function lastLines(text: string | null | undefined): string {
  return (text ?? '').trim().split('\n').filter((line) => !/Warning: It's not yet fully verified|may still work in some cases|To request support|--trace-warnings/.test(line)).slice(-5).join('\n');
}

/**
 * Builds the snapshot in a separate, low-priority process once this kernel has run for a while,
 * so the next kernel starts from it. The kernel's own start-up and first cells never wait on it.
 */
export function buildSnapshotLater(dir: string, delayMs: number): void {
  setTimeout(() => {
    if (snapshotCurrent(dir)) return;
    try {
      const child = spawn(process.execPath, [path.join(PACKAGE_ROOT, 'dist', 'kernel', 'cli', 'main.js'), 'snapshot', '--dir', dir],
        { detached: true, stdio: 'ignore', cwd: os.tmpdir() });
      child.on('error', (error) => log(`building the start-up snapshot failed to start: ${error.message}`));
      if (child.pid !== undefined) {
        try {
          os.setPriority(child.pid, 19);
        } catch {
          // not allowed here: it runs at normal priority
        }
      }
      child.unref();
    } catch (error) {
      log(`building the start-up snapshot failed to start: ${(error as Error).message}`);
    }
  }, delayMs).unref();
}
