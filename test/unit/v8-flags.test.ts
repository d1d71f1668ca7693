// The kernel's V8 flags (kernel/startup/v8-flags.ts): node takes them, and the launcher starts a
// snapshot with the flags its build recorded, and only under the NODE_OPTIONS it was built under,
// since node refuses a blob under any other V8 flags.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PACKAGE_ROOT } from '../../kernel/package-info';
import { identityText, snapshotUsable } from '../../kernel/startup/snapshot-build';
import { KERNEL_V8_FLAGS } from '../../kernel/startup/v8-flags';

const LAUNCHER = path.join(PACKAGE_ROOT, 'kernel', 'cli', 'assets', 'launch-kernel.sh');

test('node starts under the kernel\'s V8 flags (an unknown one would make every snapshot build fail)', () => {
  assert.ok(KERNEL_V8_FLAGS.length > 0);
  const started = spawnSync(process.execPath, [...KERNEL_V8_FLAGS, '-e', 'process.stdout.write("ran")'], { encoding: 'utf8' });
  assert.equal(started.status, 0, started.stderr);
  assert.equal(started.stdout, 'ran');
});

/** What the launcher runs, given an identity file's text and NODE_OPTIONS: the arguments a stand-in for node was started with. */
function launchedWith(identity: (node: string, blob: string) => string, nodeOptions = ''): string[] {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-launcher-'));
  try {
    const node = path.join(tmp, 'node');
    const argsFile = path.join(tmp, 'args');
    fs.writeFileSync(node, `#!/bin/sh\nfor arg in "$@"; do printf '%s\\n' "$arg"; done > ${JSON.stringify(argsFile)}\n`, { mode: 0o755 });
    const dir = path.join(tmp, 'cache', 'snapshot-0123456789abcdef');
    fs.mkdirSync(dir, { recursive: true });
    const blob = path.join(dir, 'kernel.blob');
    fs.writeFileSync(blob, 'blob');
    fs.writeFileSync(path.join(dir, 'identity'), identity(node, blob));
    const ran = spawnSync('/bin/sh', [LAUNCHER, node, '/cli/main.js', '0123456789abcdef', '/conn.json'], {
      encoding: 'utf8', env: { ...process.env, TSGPU_CACHE_DIR: path.join(tmp, 'cache'), NODE_OPTIONS: nodeOptions },
    });
    assert.equal(ran.status, 0, ran.stderr);
    return fs.readFileSync(argsFile, 'utf8').split('\n').filter((line) => line !== '').map((arg) => arg.replace(blob, 'BLOB'));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const FROM_BLOB = [...KERNEL_V8_FLAGS, '--snapshot-blob', 'BLOB', 'kernel', '/conn.json'];
const PLAIN = ['/cli/main.js', 'kernel', '/conn.json'];

test('the launcher starts a blob with the flags its build recorded in identity', () => {
  assert.deepEqual(launchedWith((node, blob) => identityText(node, blob, '')), FROM_BLOB);
});

test('an identity of an older build (no flags line) starts its blob without flags, as it was built', () => {
  assert.deepEqual(launchedWith((node, blob) => identityText(node, blob, '').split('\n')[0]! + '\n'), ['--snapshot-blob', 'BLOB', 'kernel', '/conn.json']);
});

test('an identity naming another node binary: a plain start (its flags are set as the kernel starts)', () => {
  assert.deepEqual(launchedWith((node, blob) => `0:0:0:0 ${identityText(node, blob, '').split(' ')[1]!}`), PLAIN);
});

test('NODE_OPTIONS may hold V8 flags, under which node refuses the blob: the launcher uses it only under those it was built under', () => {
  const builtUnder = '--max-old-space-size=4096 --enable-source-maps';
  assert.deepEqual(launchedWith((node, blob) => identityText(node, blob, builtUnder), builtUnder), FROM_BLOB);
  assert.deepEqual(launchedWith((node, blob) => identityText(node, blob, builtUnder), ''), PLAIN);
  assert.deepEqual(launchedWith((node, blob) => identityText(node, blob, ''), '--max-old-space-size=4096'), PLAIN);
  // Spaces are part of what node reads: kept as they are.
  assert.deepEqual(launchedWith((node, blob) => identityText(node, blob, ' --max-old-space-size=4096'), '--max-old-space-size=4096'), PLAIN);
  assert.deepEqual(launchedWith((node, blob) => identityText(node, blob, ' --max-old-space-size=4096'), ' --max-old-space-size=4096'), FROM_BLOB);
  // An older build recorded none: its blob is used only where there are none.
  assert.deepEqual(launchedWith((node, blob) => identityText(node, blob, '').split('\n')[0]! + '\n', '--max-old-space-size=4096'), PLAIN);
});

test('the kernel\'s flags stay out of process.execArgv (what a process a cell forks takes); the user\'s own stay', () => {
  const script = `require(${JSON.stringify(path.join(PACKAGE_ROOT, 'dist', 'kernel', 'startup', 'v8-flags.js'))}).applyKernelV8Flags(); process.stdout.write(JSON.stringify(process.execArgv))`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-execargv-'));
  try {
    fs.writeFileSync(path.join(tmp, 'main.js'), script);
    const started = spawnSync(process.execPath, [...KERNEL_V8_FLAGS, '--max-old-space-size=512', path.join(tmp, 'main.js')], { encoding: 'utf8' });
    assert.equal(started.status, 0, started.stderr);
    assert.deepEqual(JSON.parse(started.stdout), ['--max-old-space-size=512']);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('a snapshot whose identity records other flags (or none), or other NODE_OPTIONS, is not current: it is built again', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-identity-'));
  try {
    const blob = path.join(dir, 'kernel.blob');
    fs.writeFileSync(blob, 'blob');
    fs.writeFileSync(path.join(dir, 'identity'), identityText(process.execPath, blob));
    assert.equal(snapshotUsable(dir), true);
    fs.writeFileSync(path.join(dir, 'identity'), identityText(process.execPath, blob, `${process.env['NODE_OPTIONS'] ?? ''} --max-old-space-size=4096`));
    assert.equal(snapshotUsable(dir), false, 'built under other NODE_OPTIONS');
    fs.writeFileSync(path.join(dir, 'identity'), `${identityText(process.execPath, blob).split('\n')[0]!}\n`);
    assert.equal(snapshotUsable(dir), false);
    fs.writeFileSync(path.join(dir, 'identity'), `${identityText(process.execPath, blob).split('\n')[0]!}\n--interrupt-budget=1\n`);
    assert.equal(snapshotUsable(dir), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
