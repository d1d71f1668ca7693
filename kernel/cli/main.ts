#!/usr/bin/env node
// The `tsgpu` command line.
import path from 'node:path';
import { TSGPU_VERSION } from '../package-info';
import { parseInstallArgs, installKernelspec } from './install';

const USAGE = `tsgpu ${TSGPU_VERSION}: a TypeScript Jupyter kernel that shows where tensor work runs

Usage:
  tsgpu install [--user | --sys-prefix | --prefix DIR] [--name NAME] [--no-snapshot]
                                 write the Jupyter kernelspec (default --user), and build the
                                 start-up snapshot kernels start from (see tsgpu snapshot)
  tsgpu kernel CONNECTION_FILE   run the kernel (Jupyter clients start this from the kernelspec)
  tsgpu devices                  list the devices cells can use (cpu, gpu:N)
  tsgpu snapshot [--dir DIR]     build the start-up snapshot (compiler and standard library
                                 loaded) into the per-user cache; kernels started from the
                                 kernelspec use it, and rebuild it themselves when it is missing,
                                 out of date or damaged
  tsgpu run NOTEBOOK.ipynb [-o OUT.ipynb] [--device D] [--timeout S] [--allow-errors]
                                 execute a notebook headless through the kernel; print outputs
                                 and device reports; exit 1 on an unexpected error
  tsgpu --version                print the version
  tsgpu --help                   print this help
`;

/** `tsgpu COMMAND --help`: the usage of that command alone (its line and the lines under it). */
function usageOf(command: string): string | null {
  const lines = USAGE.split('\n');
  const first = lines.findIndex((line) => line.startsWith(`  tsgpu ${command} `) || line === `  tsgpu ${command}`);
  if (first < 0) return null;
  let end = first + 1;
  while (end < lines.length && /^ {10,}\S/.test(lines[end]!)) end++;
  return `Usage:\n${lines.slice(first, end).join('\n')}\n`;
}

function fail(message: string): never {
  process.stderr.write(`tsgpu: ${message}\n\n${USAGE}`);
  process.exit(2);
}

/** Once a snapshot is built: the cache's old ones, which no launcher would use again, go (snapshot-prune.ts). */
function pruneSnapshotsBeside(dir: string): void {
  const { pruneStaleSnapshots } = require('../startup/snapshot-prune') as typeof import('../startup/snapshot-prune');
  const pruned = pruneStaleSnapshots(dir);
  if (pruned !== null) process.stdout.write(`${pruned}\n`);
}

function main(argv: string[]): void {
  const [command, ...rest] = argv;
  // `tsgpu run --help` is asking, not a notebook named --help.
  const commandUsage = command !== undefined && (rest.includes('--help') || rest.includes('-h')) ? usageOf(command) : null;
  if (commandUsage !== null) {
    process.stdout.write(commandUsage);
    return;
  }
  switch (command) {
    case '--version':
    case '-V':
      process.stdout.write(`${TSGPU_VERSION}\n`);
      return;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return;
    case 'install': {
      const options = parseInstallArgs(rest);
      if (typeof options === 'string') fail(options);
      const where = installKernelspec(options);
      process.stdout.write(`installed kernelspec "${options.name}" in ${where}\n`);
      if (options.snapshot) {
        const { buildSnapshot, snapshotCurrent, snapshotDir } = require('../startup/snapshot-build') as typeof import('../startup/snapshot-build');
        const dir = snapshotDir();
        const failed = snapshotCurrent(dir) ? null : buildSnapshot(dir);
        process.stdout.write(failed === null
          ? `kernels start from the start-up snapshot in ${dir}\n`
          : `no start-up snapshot (${failed}): kernels start without it, and try building it again themselves\n`);
        if (failed === null) pruneSnapshotsBeside(dir);
      }
      // Jupyter searches a prefix of its own choosing only: another one must be named to it.
      if (options.where.kind === 'prefix') {
        process.stdout.write(`Jupyter finds it once ${path.join(options.where.dir, 'share', 'jupyter')} is on JUPYTER_PATH `
          + `(export JUPYTER_PATH=${path.join(options.where.dir, 'share', 'jupyter')}:$JUPYTER_PATH), unless that prefix is one Jupyter already searches.\n`);
      }
      return;
    }
    case 'run': {
      const { parseRunArgs, runNotebook } = require('./run/run') as typeof import('./run/run');
      const options = parseRunArgs(rest);
      if (typeof options === 'string') fail(options);
      runNotebook(options).then((code) => process.exit(code), (error: unknown) => {
        process.stderr.write(`tsgpu run: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      });
      return;
    }
    case 'devices': {
      // Loaded only here: listing GPUs loads Dawn.
      const { listDevices } = require('./devices') as typeof import('./devices');
      listDevices().then((text) => process.stdout.write(text), (error: unknown) => fail(String(error)));
      return;
    }
    case 'snapshot': {
      const { buildSnapshot, snapshotDir } = require('../startup/snapshot-build') as typeof import('../startup/snapshot-build');
      if (rest.length !== 0 && (rest.length !== 2 || rest[0] !== '--dir')) fail('snapshot takes only --dir DIR');
      const dir = rest[1] ?? snapshotDir();
      const failed = buildSnapshot(dir);
      if (failed !== null) {
        process.stderr.write(`tsgpu snapshot: ${failed}\n`);
        process.exit(1);
      }
      process.stdout.write(`built the start-up snapshot in ${dir}\n`);
      pruneSnapshotsBeside(dir);
      return;
    }
    case 'kernel': {
      const [connectionFile, extra] = rest;
      if (!connectionFile || extra !== undefined) fail('kernel takes exactly one argument: the connection file');
      // Loaded only here: `tsgpu --version` and `install` need no sockets.
      (require('../main') as typeof import('../main')).runKernelOrExit(connectionFile);
      return;
    }
    default:
      fail(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2));
