// The kernelspec `tsgpu install` writes starts the kernel through a launcher that uses the
// start-up snapshot (kernel/startup/) when one was built for this node binary and is intact, and
// a plain start otherwise. Debian's jupyter_client starts each kernel from the kernelspec and runs
// a typed cell, a cell with a type error, a tensor cell and a cell that starts node as fork() does
// (test/clients/snapshot_start_check.py);
// the kernel's command line, read from /proc, says which start it was.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CLI, isolatedJupyterDirs, PYTHON, ROOT } from './notebook-server';

const CHECK_PY = path.join(ROOT, 'test', 'clients', 'snapshot_start_check.py');

interface Run { code: number | null; stdout: string; stderr: string }
interface Checked {
  cmdline: string[];
  cells: { status: string; result: string | null; evalue: string | null }[];
}

let tmp = '';
let env: NodeJS.ProcessEnv = {};

function run(command: string, args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGINT' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function describe(r: Run): string {
  return `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** Installs the kernelspec `name` from the package whose CLI is `cli`; returns its argv. */
async function install(cli: string, name: string): Promise<string[]> {
  const r = await run(process.execPath, [cli, 'install', '--prefix', tmp, '--name', name], 120_000);
  assert.equal(r.code, 0, describe(r));
  assert.match(r.stdout, /kernels start from the start-up snapshot in /, describe(r));
  const spec = JSON.parse(fs.readFileSync(path.join(tmp, 'share', 'jupyter', 'kernels', name, 'kernel.json'), 'utf8')) as { argv: string[] };
  return spec.argv;
}

async function check(name: string): Promise<{ checked: Checked; stderr: string }> {
  const r = await run(PYTHON, [CHECK_PY, '--kernel', name], 180_000);
  assert.equal(r.code, 0, describe(r));
  return { checked: JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Checked, stderr: r.stderr };
}

function assertCellsRan(checked: Checked): void {
  const [typed, wrong, tensor, gpu, env, child] = checked.cells;
  assert.deepEqual([typed?.status, typed?.result], ['ok', '42'], JSON.stringify(typed));
  assert.equal(wrong?.status, 'error', JSON.stringify(wrong));
  assert.match(wrong?.evalue ?? '', /TS2322/, JSON.stringify(wrong));
  assert.deepEqual([tensor?.status, tensor?.result], ['ok', '6'], JSON.stringify(tensor));
  assert.deepEqual([child?.status, child?.result], ['ok', "'42'"], JSON.stringify(child));
  assert.deepEqual([gpu?.status, gpu?.result], ['ok', '3'], JSON.stringify(gpu));
  assert.deepEqual([env?.status, env?.result], ['ok', "'none'"], JSON.stringify(env));
}

const fromSnapshot = (checked: Checked, blob: string): boolean =>
  checked.cmdline.includes('--snapshot-blob') && checked.cmdline.includes(blob);

before(() => {
  const jupyter = isolatedJupyterDirs('snapshot-start');
  tmp = jupyter.tmp;
  env = { ...jupyter.env, TSGPU_CACHE_DIR: path.join(tmp, 'cache'), PYTHONUNBUFFERED: '1' };
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

let snapshotDir = '';

test('tsgpu install builds the snapshot; a kernel started from it runs a typed cell, a type error and a tensor cell', { timeout: 300_000 }, async () => {
  const argv = await install(CLI, 'tsgpu');
  assert.equal(argv[0], '/bin/sh');
  assert.equal(argv.at(-1), '{connection_file}');
  // The launcher finds the user's snapshot under TSGPU_CACHE_DIR by the key the kernelspec carries.
  snapshotDir = path.join(tmp, 'cache', `snapshot-${argv[4]!}`);
  const blob = path.join(snapshotDir, 'kernel.blob');
  assert.ok(fs.statSync(blob).size > 1_000_000, 'the blob is missing or small');
  const { checked, stderr } = await check('tsgpu');
  assert.ok(fromSnapshot(checked, blob), `not started from the snapshot: ${JSON.stringify(checked.cmdline)}\n${stderr}`);
  assert.doesNotMatch(stderr, /out of date/);
  assertCellsRan(checked);
});

test('a damaged blob, or one another node binary built: the launcher starts the kernel without it', { timeout: 300_000 }, async () => {
  assert.ok(snapshotDir, 'the first test installed no snapshot');
  const blob = path.join(snapshotDir, 'kernel.blob');
  const whole = fs.readFileSync(blob);
  fs.writeFileSync(blob, whole.subarray(0, whole.length >> 1));
  const damaged = await check('tsgpu');
  assert.ok(!fromSnapshot(damaged.checked, blob), `started from a damaged blob: ${JSON.stringify(damaged.checked.cmdline)}`);
  assert.ok(damaged.checked.cmdline.includes(CLI), JSON.stringify(damaged.checked.cmdline));
  assertCellsRan(damaged.checked);

  // An intact blob whose identity names another node binary (node was upgraded in place, say).
  fs.writeFileSync(blob, whole);
  const identity = path.join(snapshotDir, 'identity');
  const [, blobIdentity] = fs.readFileSync(identity, 'utf8').trim().split(' ');
  const stat = fs.statSync(blob);
  assert.equal(blobIdentity?.split(':')[2], String(stat.size));
  fs.writeFileSync(identity, `0:0:0:0 ${stat.dev}:${stat.ino}:${stat.size}:${Math.floor(stat.mtimeMs / 1000)}\n`);
  const otherNode = await check('tsgpu');
  assert.ok(!fromSnapshot(otherNode.checked, blob), `started from another node's blob: ${JSON.stringify(otherNode.checked.cmdline)}`);
  assertCellsRan(otherNode.checked);
});

test('a snapshot of kernel files that changed since it was built: the kernel starts from the files on disk', { timeout: 300_000 }, async () => {
  // A copy of the package, so that one of its files can change under its snapshot.
  const copy = path.join(tmp, 'package');
  for (const part of ['package.json', 'dist/kernel', 'dist/magics', 'kernel/types', 'kernel/cli/assets']) {
    fs.cpSync(path.join(ROOT, part), path.join(copy, part), { recursive: true });
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  const argv = await install(path.join(copy, 'dist', 'kernel', 'cli', 'main.js'), 'tsgpu-copy');
  const blob = path.join(tmp, 'cache', `snapshot-${argv[4]!}`, 'kernel.blob');
  const changed = path.join(copy, 'dist', 'kernel', 'log.js');
  const later = new Date(fs.statSync(changed).mtimeMs + 10_000);
  fs.utimesSync(changed, later, later);
  const { checked, stderr } = await check('tsgpu-copy');
  assert.ok(fromSnapshot(checked, blob), `the launcher did not use the blob: ${JSON.stringify(checked.cmdline)}`);
  assert.match(stderr, new RegExp(`start-up snapshot is out of date \\(${changed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} changed`), stderr);
  assertCellsRan(checked);
});
