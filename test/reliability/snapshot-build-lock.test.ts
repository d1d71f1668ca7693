// A start-up snapshot build holds a lock in its folder (kernel/startup/snapshot-build.ts). A build
// killed while it held it (a kernel's background build killed with its session, `kill -9`) must
// not keep every later build away: the next `tsgpu snapshot` takes the lock over at once and clears
// what the killed build left. A build that runs keeps it, and the refusal names the lock file.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'kernel', 'cli', 'main.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-snapshot-lock-'));

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function snapshot(dir: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'snapshot', '--dir', dir], { encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a build killed while it held the lock: the next build takes the lock over and clears what it left', { timeout: 400_000 }, async () => {
  const dir = path.join(tmp, 'killed');
  const lock = path.join(dir, 'build.lock');
  // Its own process group, so that the builder node it runs dies with it, as with a killed session.
  const killed = spawn(process.execPath, [CLI, 'snapshot', '--dir', dir], { detached: true, stdio: 'ignore' });
  const exited = new Promise((resolve) => killed.on('exit', resolve));
  // Killed once the builder is at work: its lock and its entry script are there.
  for (let waited = 0; waited < 1200; waited++) {
    if (fs.existsSync(lock) && fs.existsSync(dir) && fs.readdirSync(dir).some((name) => name.startsWith('entry.'))) break;
    await sleep(50);
  }
  process.kill(-killed.pid!, 'SIGKILL');
  await exited;
  assert.ok(fs.existsSync(lock), `the killed build left no lock: ${fs.readdirSync(dir).join(', ')}`);

  const r = snapshot(dir);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /built the start-up snapshot/);
  const left = fs.readdirSync(dir).sort();
  assert.deepEqual(left, ['identity', 'kernel.blob', 'stamps.json'], `left in ${dir}`);
});

test('a build under way keeps its lock: a second build refuses and names the lock file', { timeout: 60_000 }, () => {
  const dir = path.join(tmp, 'held');
  fs.mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, 'build.lock');
  // Its owner runs (this test's own process).
  fs.writeFileSync(lock, `${process.pid}\n`);
  const r = snapshot(dir);
  assert.equal(r.status, 1, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /another build of the snapshot is under way/);
  assert.ok(r.stderr.includes(lock), `the refusal does not name ${lock}: ${r.stderr}`);
  assert.equal(fs.readFileSync(lock, 'utf8'), `${process.pid}\n`, 'the lock of a build under way was touched');
});
