// `tsgpu install`: writes the kernelspec Jupyter clients use to start this kernel. Paths in argv
// are absolute: a `node` on the PATH of whatever launches the kernel could be any version, or none.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../package-info';
import { snapshotKey } from '../startup/snapshot-build';

export interface InstallOptions {
  where: { kind: 'user' } | { kind: 'sys-prefix' } | { kind: 'prefix'; dir: string };
  name: string;
  /** Start kernels through the launcher that uses a start-up snapshot, and build one now. */
  snapshot: boolean;
}

export const KERNEL_NAME = 'tsgpu';
const LOGOS = ['logo-32x32.png', 'logo-64x64.png', 'logo-svg.svg'];

/** Returns the options, or a message saying what is wrong with the arguments. */
export function parseInstallArgs(args: string[]): InstallOptions | string {
  const options: InstallOptions = { where: { kind: 'user' }, name: KERNEL_NAME, snapshot: SNAPSHOTS_SUPPORTED };
  let chosen = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    switch (arg) {
      case '--user':
        options.where = { kind: 'user' };
        chosen++;
        break;
      case '--sys-prefix':
        options.where = { kind: 'sys-prefix' };
        chosen++;
        break;
      case '--prefix': {
        const dir = args[++i];
        if (!dir) return '--prefix needs a directory';
        options.where = { kind: 'prefix', dir: path.resolve(dir) };
        chosen++;
        break;
      }
      case '--name': {
        const name = args[++i];
        // Jupyter lowercases kernel names: "TSGPU" would be found as (and hide) "tsgpu".
        if (!name || !/^[a-z0-9._-]+$/.test(name)) return '--name needs a kernel name of lowercase letters, digits, ".", "_" or "-" (Jupyter lowercases kernel names)';
        options.name = name;
        break;
      }
      case '--no-snapshot':
        options.snapshot = false;
        break;
      default:
        return `unknown install option "${arg}"`;
    }
  }
  if (chosen > 1) return 'choose one of --user, --sys-prefix and --prefix DIR';
  return options;
}

function userDataDir(): string {
  const fromEnv = process.env['JUPYTER_DATA_DIR'];
  if (fromEnv) return fromEnv;
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Jupyter');
  if (process.platform === 'win32') return path.join(process.env['APPDATA'] ?? os.homedir(), 'jupyter');
  return path.join(process.env['XDG_DATA_HOME'] ?? path.join(os.homedir(), '.local', 'share'), 'jupyter');
}

/** The prefix of the Python environment Jupyter runs in (a virtualenv or conda env when active). */
function jupyterSysPrefix(): string {
  const active = process.env['VIRTUAL_ENV'] ?? process.env['CONDA_PREFIX'];
  if (active) return active;
  for (const python of ['python3', 'python']) {
    try {
      return execFileSync(python, ['-c', 'import sys; print(sys.prefix)'], { encoding: 'utf8' }).trim();
    } catch {
      // try the next name
    }
  }
  throw new Error('--sys-prefix: no python3 found to ask for sys.prefix; use --prefix DIR instead');
}

export function kernelspecDir(options: InstallOptions): string {
  switch (options.where.kind) {
    case 'user':
      return path.join(userDataDir(), 'kernels', options.name);
    case 'sys-prefix':
      return path.join(jupyterSysPrefix(), 'share', 'jupyter', 'kernels', options.name);
    case 'prefix':
      return path.join(options.where.dir, 'share', 'jupyter', 'kernels', options.name);
  }
}

/** The launcher is a POSIX shell script (a second node process would cost a start of its own). */
export const SNAPSHOTS_SUPPORTED = process.platform !== 'win32';
const LAUNCHER = path.join(PACKAGE_ROOT, 'kernel', 'cli', 'assets', 'launch-kernel.sh');

export function kernelArgv(snapshot: boolean): string[] {
  const cli = path.join(PACKAGE_ROOT, 'dist', 'kernel', 'cli', 'main.js');
  if (!snapshot) return [process.execPath, cli, 'kernel', '{connection_file}'];
  return ['/bin/sh', LAUNCHER, process.execPath, cli, snapshotKey(), '{connection_file}'];
}

/**
 * A kernel installed under another name (`--name tsgpu-plain --no-snapshot` beside the default)
 * says which it is in the launcher's list: two entries both called "TypeScript (tsgpu)" could not
 * be told apart.
 */
export function displayName(name = KERNEL_NAME, snapshot = SNAPSHOTS_SUPPORTED): string {
  if (name === KERNEL_NAME) return 'TypeScript (tsgpu)';
  return `TypeScript (tsgpu: ${name}${snapshot ? '' : ', no start-up snapshot'})`;
}

export function kernelspec(snapshot = SNAPSHOTS_SUPPORTED, name = KERNEL_NAME): Record<string, unknown> {
  return {
    argv: kernelArgv(snapshot),
    display_name: displayName(name, snapshot),
    language: 'typescript',
    // The kernel handles interrupt_request on control itself; that also works when it was
    // started through a wrapper that would swallow a signal sent to the launched pid.
    interrupt_mode: 'message',
    env: {},
    metadata: { debugger: false },
  };
}

/** Writes the kernelspec and its logos; returns the directory written. */
export function installKernelspec(options: InstallOptions): string {
  const dir = kernelspecDir(options);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'kernel.json'), `${JSON.stringify(kernelspec(options.snapshot, options.name), null, 2)}\n`);
  for (const logo of LOGOS) copyFileSync(path.join(PACKAGE_ROOT, 'kernel', 'cli', 'assets', logo), path.join(dir, logo));
  return dir;
}
