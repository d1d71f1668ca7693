// The kernelspec `tsgpu install` writes starts the kernel through a launcher that uses the
// start-up snapshot (kernel/startup/) when one was built for this node binary and is intact, and
// a plain start otherwise. Debian's jupyter_client starts each kernel from the kernelspec and runs
// a typed cell, a cell with a type error, a tensor cell, a cell that starts node as fork() does and
// one that reads `require.main` (test/clients/snapshot_start_check.py);
// the kernel's command line, read from /proc, says which start it was.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { snapshotCurrent } from '../../kernel/startup/snapshot-build';
import { CLI, isolatedJupyterDirs, PYTHON, ROOT } from './notebook-server';

const CHECK_PY = path.join(ROOT, 'test', 'clients', 'snapshot_start_check.py');

interface Run { code: number | null; stdout: string; stderr: string }
interface Checked {
  cmdline: string[];
  cells: { status: string; result: string | null; evalue: string | null }[];
}

let tmp = '';
let env: NodeJS.ProcessEnv = {};

function run(command: string, args: string[], timeoutMs: number, extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: tmp, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGINT' });
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

async function check(name: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ checked: Checked; stderr: string }> {
  const r = await run(PYTHON, [CHECK_PY, '--kernel', name], 180_000, extraEnv);
  assert.equal(r.code, 0, describe(r));
  return { checked: JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Checked, stderr: r.stderr };
}

/** What a plain start (`node CLI kernel FILE`) gives cells as `require.main`: the CLI, run as Node runs a script. */
function plainRequireMain(cli: string): unknown {
  const dist = path.resolve(cli, '..', '..');
  return {
    id: '.', filename: cli, loaded: true, isMainModule: true,
    children: ['package-info.js', 'cli/install.js', 'main.js'].map((file) => path.join(dist, file)),
  };
}

function assertCellsRan(checked: Checked, cli = CLI): void {
  const [typed, wrong, tensor, gpu, env, child, main, compiler] = checked.cells;
  assert.deepEqual([compiler?.status, compiler?.result], ['ok', "'NodeObject'"], JSON.stringify(compiler));
  assert.deepEqual([typed?.status, typed?.result], ['ok', '42'], JSON.stringify(typed));
  assert.equal(wrong?.status, 'error', JSON.stringify(wrong));
  assert.match(wrong?.evalue ?? '', /TS2322/, JSON.stringify(wrong));
  assert.deepEqual([tensor?.status, tensor?.result], ['ok', '6'], JSON.stringify(tensor));
  assert.deepEqual([child?.status, child?.result], ['ok', "'42'"], JSON.stringify(child));
  assert.deepEqual([gpu?.status, gpu?.result], ['ok', '3'], JSON.stringify(gpu));
  assert.deepEqual([env?.status, env?.result], ['ok', "'none'"], JSON.stringify(env));
  assert.equal(main?.status, 'ok', JSON.stringify(main));
  assert.deepEqual(JSON.parse((main?.result ?? "'null'").slice(1, -1)), plainRequireMain(cli), `require.main in a cell: ${main?.result}`);
}

/** Until the kernel that found its snapshot unusable has rebuilt it in the background (a few seconds of a niced process). */
async function rebuilt(dir: string, node = process.execPath, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): Promise<void> {
  for (let waited = 0; waited < 240; waited++) {
    if (snapshotCurrent(dir, node, nodeOptions) && !fs.existsSync(path.join(dir, 'build.lock'))) return;
    await sleep(500);
  }
  assert.fail(`the snapshot in ${dir} was not rebuilt: ${fs.readdirSync(dir).join(', ')}`);
}

/** A current snapshot in `dir`, built now if the earlier tests left none (each test below shows its own fault). */
async function ensureCurrent(dir: string): Promise<void> {
  for (let waited = 0; waited < 240 && fs.existsSync(path.join(dir, 'build.lock')); waited++) await sleep(500);
  if (snapshotCurrent(dir)) return;
  const built = await run(process.execPath, [CLI, 'snapshot', '--dir', dir], 120_000);
  assert.equal(built.code, 0, describe(built));
}

const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

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
  // It holds the compiler's compact copy (kernel/startup/compact-typescript.ts), not typescript.js's text.
  const held = (JSON.parse(fs.readFileSync(path.join(snapshotDir, 'stamps.json'), 'utf8')) as { file: string }[]).map(({ file }) => file);
  assert.ok(held.includes(path.join(ROOT, 'dist', 'kernel', 'startup', 'typescript.compact.js')), `the snapshot's files: ${held.join(', ')}`);
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
  // That kernel rebuilt it in the background.
  await rebuilt(snapshotDir);

  // An intact blob (the one just rebuilt) whose identity names another node binary (node was upgraded in place, say).
  const identity = path.join(snapshotDir, 'identity');
  const [files, nodeOptions] = fs.readFileSync(identity, 'utf8').split('\n');
  const [, blobIdentity] = files!.split(' ');
  const stat = fs.statSync(blob);
  assert.equal(blobIdentity?.split(':')[2], String(stat.size));
  fs.writeFileSync(identity, `0:0:0:0 ${stat.dev}:${stat.ino}:${stat.size}:${Math.floor(stat.mtimeMs / 1000)}\n${nodeOptions}\n`);
  const otherNode = await check('tsgpu');
  assert.ok(!fromSnapshot(otherNode.checked, blob), `started from another node's blob: ${JSON.stringify(otherNode.checked.cmdline)}`);
  assertCellsRan(otherNode.checked);
  await rebuilt(snapshotDir);
});

test('a blob damaged in place (size and mtime kept): node aborts on it once, the next start goes without it and says so, and it is rebuilt', { timeout: 400_000 }, async () => {
  assert.ok(snapshotDir, 'the first test installed no snapshot');
  await ensureCurrent(snapshotDir);
  const blob = path.join(snapshotDir, 'kernel.blob');
  const before = fs.statSync(blob);
  const fd = fs.openSync(blob, 'r+');
  fs.writeSync(fd, Buffer.alloc(4096, 0xde), 0, 4096, before.size >> 1);
  fs.closeSync(fd);
  fs.utimesSync(blob, before.atime, before.mtime);
  const after = fs.statSync(blob);
  // What the launcher compares (launch-kernel.sh: stat's %i, %s and %Y) is as it was.
  const seen = (stat: fs.Stats): number[] => [stat.dev, stat.ino, stat.size, Math.floor(stat.mtimeMs / 1000)];
  assert.deepEqual(seen(after), seen(before));

  // The launcher cannot tell this blob from the one it built without reading all of it: node aborts.
  const crashed = await run(PYTHON, [CHECK_PY, '--kernel', 'tsgpu'], 180_000);
  assert.notEqual(crashed.code, 0, describe(crashed));
  assert.match(crashed.stderr, /Check failed: VerifyChecksum/, describe(crashed));

  // What Jupyter does next (it restarts the kernel) starts it without the blob, not into the same abort.
  const next = await check('tsgpu');
  assert.ok(!fromSnapshot(next.checked, blob), `started from the damaged blob again: ${JSON.stringify(next.checked.cmdline)}`);
  assert.ok(next.checked.cmdline.includes(CLI), JSON.stringify(next.checked.cmdline));
  assertCellsRan(next.checked);
  const said = next.stderr.split('\n').filter((line) => line.includes('looks damaged'));
  assert.equal(said.length, 1, next.stderr);
  assert.match(said[0]!, new RegExp(`start-up snapshot ${escaped(blob)} looks damaged.*tsgpu snapshot`), said[0]);

  await rebuilt(snapshotDir);
  const mended = await check('tsgpu');
  assert.ok(fromSnapshot(mended.checked, blob), `not started from the rebuilt blob: ${JSON.stringify(mended.checked.cmdline)}\n${mended.stderr}`);
  assert.doesNotMatch(mended.stderr, /looks damaged/);
  assertCellsRan(mended.checked);
});

test('a start from the blob under way is not taken for one that died: two kernels start from it at once', { timeout: 300_000 }, async () => {
  assert.ok(snapshotDir, 'the first test installed no snapshot');
  await ensureCurrent(snapshotDir);
  const blob = path.join(snapshotDir, 'kernel.blob');
  // A third start, still loading the blob: its marker names a process that runs (this one).
  const underWay = path.join(snapshotDir, `start-${process.pid}`);
  fs.writeFileSync(underWay, '');
  try {
    const both = await Promise.all([check('tsgpu'), check('tsgpu')]);
    for (const { checked, stderr } of both) {
      assert.ok(fromSnapshot(checked, blob), `not started from the snapshot: ${JSON.stringify(checked.cmdline)}\n${stderr}`);
      assert.doesNotMatch(stderr, /looks damaged/);
      assertCellsRan(checked);
    }
    // Each kernel removed its own start's marker, and only its own.
    assert.deepEqual(fs.readdirSync(snapshotDir).filter((name) => name.startsWith('start-')), [path.basename(underWay)]);
  } finally {
    fs.rmSync(underWay, { force: true });
  }
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
  const copyCli = path.join(copy, 'dist', 'kernel', 'cli', 'main.js');
  const { checked, stderr } = await check('tsgpu-copy');
  assert.ok(fromSnapshot(checked, blob), `the launcher did not use the blob: ${JSON.stringify(checked.cmdline)}`);
  assert.match(stderr, new RegExp(`start-up snapshot is out of date \\(${escaped(changed)} changed`), stderr);
  assertCellsRan(checked, copyCli);

  // That kernel lived a few seconds only, yet it rebuilt the snapshot: the next start is from it.
  await rebuilt(path.dirname(blob));
  const next = await check('tsgpu-copy');
  assert.ok(fromSnapshot(next.checked, blob), `not started from the rebuilt blob: ${JSON.stringify(next.checked.cmdline)}`);
  assert.doesNotMatch(next.stderr, /out of date/);
  assertCellsRan(next.checked, copyCli);
});

test('under NODE_OPTIONS other than the blob was built under (they may hold V8 flags, and node refuses a blob under other flags), the kernel starts plainly, and the blob is built again under them', { timeout: 400_000 }, async () => {
  assert.ok(snapshotDir, 'the first test installed no snapshot');
  await ensureCurrent(snapshotDir);
  const blob = path.join(snapshotDir, 'kernel.blob');
  const nodeOptions = `${process.env['NODE_OPTIONS'] ?? ''} --max-old-space-size=3000`.trim();
  const first = await check('tsgpu', { NODE_OPTIONS: nodeOptions });
  assert.ok(!fromSnapshot(first.checked, blob), `started from a blob built under other NODE_OPTIONS: ${JSON.stringify(first.checked.cmdline)}`);
  assert.doesNotMatch(first.stderr, /Failed to load the startup snapshot|looks damaged/);
  assertCellsRan(first.checked);
  await rebuilt(snapshotDir, process.execPath, nodeOptions);
  assert.equal(fs.readFileSync(path.join(snapshotDir, 'identity'), 'utf8').split('\n')[1], nodeOptions);
  const next = await check('tsgpu', { NODE_OPTIONS: nodeOptions });
  assert.ok(fromSnapshot(next.checked, blob), `not started from the blob built under these NODE_OPTIONS: ${JSON.stringify(next.checked.cmdline)}\n${next.stderr}`);
  assertCellsRan(next.checked);
});
