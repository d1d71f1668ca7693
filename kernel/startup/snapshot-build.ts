// Where a start-up snapshot lives and how it is built (its contents: snapshot-entry.ts).
//
// A snapshot only works with the node binary that built it and is tens of MB, so it is never part
// of the package: it is built per user (a kernelspec installed for many users finds each one's
// own), into a cache folder per package folder and node binary, by `tsgpu install` or, once a
// kernel started without one, in the background. Next to the blob,
// `identity` records the node binary's and the blob's device, inode, size and mtime, and the
// NODE_OPTIONS it was built under: the launcher (kernel/cli/assets/launch-kernel.sh) uses the blob
// only while the node binary, the blob and NODE_OPTIONS still match what it records, so a replaced
// node, a blob cut short or other NODE_OPTIONS mean a plain start, never a kernel that cannot
// start. A blob damaged in place with its size and mtime kept passes that check and makes node abort: the launcher leaves a
// start marker that the kernel's first code removes, and goes without the blob once it finds one
// left by a start that died (failedStart). Whether the kernel's code and the compiler's files are
// still those the snapshot holds is checked by the snapshot itself when it starts
// (snapshot-entry.ts).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { log } from '../log';
import { PACKAGE_ROOT } from '../package-info';
import { QuietRebuild } from './quiet-rebuild';

export const BLOB = 'kernel.blob';
export const IDENTITY = 'identity';
/** The files the snapshot holds, with their sizes and mtimes when it was built. */
export const STAMPS = 'stamps.json';
export const LOCK = 'build.lock';
/** A lock with no owner's pid in it (being written, or left by an older tsgpu) older than this was left by a build that died. */
const STALE_LOCK_MS = 10 * 60_000;
/** `start-PID`: a start from the blob under way, or one that died before the kernel's code ran (launch-kernel.sh). */
export const START_MARKER = 'start-';
const BUILD_TIMEOUT_MS = 5 * 60_000;

/** The environment variable through which the launcher tells a kernel where its snapshot belongs. */
export const SNAPSHOT_DIR_ENV = 'TSGPU_SNAPSHOT_DIR';

/** The user's cache folder for tsgpu, as the launcher finds it too (launch-kernel.sh). */
export function cacheRoot(): string {
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

/** This process's NODE_OPTIONS, which a build it starts inherits and a kernel it starts runs under; unset reads as empty, as the launcher reads it. */
function ownNodeOptions(): string {
  return process.env['NODE_OPTIONS'] ?? '';
}

function identityLine(nodeBinary: string, blob: string): string {
  return `${fileIdentity(nodeBinary)} ${fileIdentity(blob)}`;
}

/**
 * The identity file: the line the launcher compares, then the NODE_OPTIONS the blob was built under,
 * which the launcher requires of a start from it. They may hold V8 flags (`--max-old-space-size`),
 * and node refuses a blob under V8 flags other than its build's: such a start died before the kernel
 * ran. Under other NODE_OPTIONS the launcher starts the kernel plainly, and the kernel builds the
 * blob again under its own.
 */
export function identityText(nodeBinary: string, blob: string, nodeOptions = ownNodeOptions()): string {
  return `${identityLine(nodeBinary, blob)}\n${nodeOptions}\n`;
}

/** Whether `dir` holds a blob the launcher would use with this node binary under this process's NODE_OPTIONS. */
export function snapshotUsable(dir: string, nodeBinary = process.execPath, nodeOptions = ownNodeOptions()): boolean {
  try {
    return fs.readFileSync(path.join(dir, IDENTITY), 'utf8') === identityText(nodeBinary, path.join(dir, BLOB), nodeOptions);
  } catch {
    return false;
  }
}

interface FileStamp {
  file: string;
  size: number;
  mtimeMs: number;
}

/** Whether a process runs as `pid`, as the launcher's `kill -0` tells it (another user's process counts as gone there too). */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The start marker of a start from the blob in `dir` that died before the kernel's code ran (node
 * aborted on a damaged blob, or it was killed while loading it), or null. The launcher looks for
 * the same, and a build removes them.
 */
export function failedStart(dir: string): string | null {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return null;
  }
  for (const name of names) {
    const pid = name.startsWith(START_MARKER) ? name.slice(START_MARKER.length) : '';
    if (/^[0-9]+$/.test(pid) && !processRuns(Number(pid))) return path.join(dir, name);
  }
  return null;
}

/** Whether `dir` holds a blob the launcher would use, and that holds the files on disk now. */
export function snapshotCurrent(dir: string, nodeBinary = process.execPath, nodeOptions = ownNodeOptions()): boolean {
  return snapshotUsable(dir, nodeBinary, nodeOptions) && failedStart(dir) === null && stampsCurrent(dir);
}

/** Whether every file the snapshot in `dir` holds is on disk as it was when it was built (false when its stamps cannot be read). */
export function stampsCurrent(dir: string): boolean {
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

/**
 * Takes the build lock, which holds its owner's pid; or says why not (another build is under way).
 * A lock whose owner is gone (a build killed) is taken over at once.
 */
export function takeBuildLock(dir: string): (() => void) | string {
  const file = path.join(dir, LOCK);
  for (let tries = 0; tries < 3; tries++) {
    let fd: number | null = null;
    try {
      fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      sweepLeftovers(dir);
      return () => fs.rmSync(file, { force: true });
    } catch (error) {
      if (fd !== null) {
        // Made but not written (a full disk, say): an empty lock would keep builds away for STALE_LOCK_MS.
        fs.rmSync(file, { force: true });
        return `the build lock ${file} cannot be written (${(error as Error).message})`;
      }
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return `the build lock ${file} cannot be made (${(error as Error).message})`;
    }
    const owner = lockOwner(file);
    if (owner === null) continue;
    if (owner.live) {
      return `another build of the snapshot is under way (${owner.pid === null ? 'its lock' : `process ${owner.pid} holds`} ${file}; `
        + 'if no build runs, delete that file)';
    }
    takeOver(file, owner.ino);
  }
  return `the build lock ${file} changed hands too often to be taken`;
}

/** Who holds the lock: null when it is gone already (try again). */
function lockOwner(file: string): { pid: number | null; ino: number; live: boolean } | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    // Both from one open file: the pid read is the one of the lock whose inode takeOver checks.
    const stat = fs.fstatSync(fd);
    const text = fs.readFileSync(fd, 'utf8').trim();
    if (/^[0-9]+$/.test(text)) {
      const pid = Number(text);
      // Our own pid in it was left by an earlier process that had it: we hold no lock yet.
      return { pid, ino: stat.ino, live: pid !== process.pid && pidLives(pid) };
    }
    // Being written this moment, or left by a tsgpu that wrote no pid: only its age can tell.
    return { pid: null, ino: stat.ino, live: Date.now() - stat.mtimeMs <= STALE_LOCK_MS };
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/** Unlike processRuns, a pid another user holds counts as a build under way: a cache folder may be shared. */
function pidLives(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the dead owner's lock. Two builds may both find it dead: it is moved aside first, and a
 * lock found to be another (the other build took over in between) is put back.
 */
function takeOver(file: string, deadIno: number): void {
  const aside = `${file}.${process.pid}.dead`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return;
  }
  try {
    if (fs.statSync(aside).ino !== deadIno) fs.linkSync(aside, file);
  } catch {
    // a third build holds it now
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

/** A killed build's partial blob (tens of MB) and its other files; only the lock's holder may call this. */
function sweepLeftovers(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    if (name.endsWith('.partial') || /^entry\.[0-9]+\.js$/.test(name)) fs.rmSync(path.join(dir, name), { force: true });
  }
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
  const unlock = takeBuildLock(dir);
  if (typeof unlock === 'string') return unlock;
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
    // Crashed starts were starts from the blob just replaced; until the identity below is written
    // the launcher does not use the new one, so none of its starts is lost here.
    for (const name of fs.readdirSync(dir)) {
      if (name.startsWith(START_MARKER)) fs.rmSync(path.join(dir, name), { force: true });
    }
    const identity = path.join(dir, `${IDENTITY}.${process.pid}.partial`);
    fs.writeFileSync(identity, identityText(process.execPath, blob));
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

/** The environment variable through which the launcher tells a kernel that a start from the blob died (its marker). */
const FAILED_ENV = 'TSGPU_SNAPSHOT_FAILED';

/**
 * For a kernel the launcher started: takes the launcher's variables out of the environment (cells
 * must not see them), says why the kernel did not start from its snapshot where the launcher found
 * a crashed start, and returns what rebuilds it (the kernel arms it once it has warmed up, and
 * tells it what it serves); null when the kernel started from a current snapshot or not through
 * the launcher.
 */
export function snapshotFollowUp(startedFromSnapshot: boolean): QuietRebuild | null {
  const dir = process.env[SNAPSHOT_DIR_ENV];
  const failed = process.env[FAILED_ENV];
  delete process.env[SNAPSHOT_DIR_ENV];
  delete process.env[FAILED_ENV];
  if (dir === undefined || startedFromSnapshot) return null;
  if (failed !== undefined) {
    log(`the start-up snapshot ${path.join(dir, BLOB)} looks damaged: a start from it died before the kernel ran `
      + `(${path.basename(failed)}: node refused or aborted on it, or was killed while loading it). Starting without it; `
      + `rebuilding it in the background (by hand: tsgpu snapshot --dir ${dir})`);
  }
  return new QuietRebuild(() => buildSnapshotInBackground(dir));
}

/**
 * Builds the snapshot in a separate, lowest-priority process, so the next kernel starts from it. A
 * cell that runs meanwhile takes the CPU from the build (nice 19); when it starts: quiet-rebuild.ts.
 */
export function buildSnapshotInBackground(dir: string): void {
  // Another kernel may have rebuilt it since this one started.
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
      log(`building the start-up snapshot in ${dir} in the background (process ${child.pid}, nice 19)`);
    }
    child.unref();
  } catch (error) {
    log(`building the start-up snapshot failed to start: ${(error as Error).message}`);
  }
}
