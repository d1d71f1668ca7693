// The kernelspec's launcher (kernel/cli/assets/launch-kernel.sh) and the snapshot's identity: a blob
// is used only with the node binary that built it and under the NODE_OPTIONS it was built under,
// since those may hold V8 flags, and node refuses a blob under V8 flags other than its build's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PACKAGE_ROOT } from '../../kernel/package-info';
import { identityText, snapshotUsable } from '../../kernel/startup/snapshot-build';

const LAUNCHER = path.join(PACKAGE_ROOT, 'kernel', 'cli', 'assets', 'launch-kernel.sh');

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

const FROM_BLOB = ['--snapshot-blob', 'BLOB', 'kernel', '/conn.json'];
const PLAIN = ['/cli/main.js', 'kernel', '/conn.json'];
const firstLine = (text: string): string => `${text.split('\n')[0]!}\n`;

test('the launcher starts from the blob its identity names, with this node binary', () => {
  assert.deepEqual(launchedWith((node, blob) => identityText(node, blob, '')), FROM_BLOB);
  assert.deepEqual(launchedWith((node, blob) => `0:0:0:0 ${identityText(node, blob, '').split(' ')[1]!}`), PLAIN, 'another node binary');
});

test('NODE_OPTIONS may hold V8 flags, under which node refuses the blob: the launcher uses it only under those it was built under', () => {
  const builtUnder = '--max-old-space-size=4096 --enable-source-maps';
  assert.deepEqual(launchedWith((node, blob) => identityText(node, blob, builtUnder), builtUnder), FROM_BLOB);
  assert.deepEqual(launchedWith((node, blob) => identityText(node, blob, builtUnder), ''), PLAIN);
  assert.deepEqual(launchedWith((node, blob) => identityText(node, blob, ''), '--max-old-space-size=4096'), PLAIN);
  // Spaces are part of what node reads: kept as they are.
  assert.deepEqual(launchedWith((node, blob) => identityText(node, blob, ' --max-old-space-size=4096'), '--max-old-space-size=4096'), PLAIN);
  assert.deepEqual(launchedWith((node, blob) => identityText(node, blob, ' --max-old-space-size=4096'), ' --max-old-space-size=4096'), FROM_BLOB);
  // An older build recorded none (one line): its blob is used only where there are none.
  assert.deepEqual(launchedWith((node, blob) => firstLine(identityText(node, blob, '')), ''), FROM_BLOB);
  assert.deepEqual(launchedWith((node, blob) => firstLine(identityText(node, blob, '')), '--max-old-space-size=4096'), PLAIN);
});

test('a snapshot built under other NODE_OPTIONS, or recorded by an older build, is not current: it is built again', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-identity-'));
  try {
    const blob = path.join(dir, 'kernel.blob');
    const identity = path.join(dir, 'identity');
    fs.writeFileSync(blob, 'blob');
    fs.writeFileSync(identity, identityText(process.execPath, blob));
    assert.equal(snapshotUsable(dir), true);
    fs.writeFileSync(identity, identityText(process.execPath, blob, `${process.env['NODE_OPTIONS'] ?? ''} --max-old-space-size=4096`));
    assert.equal(snapshotUsable(dir), false, 'built under other NODE_OPTIONS');
    assert.equal(snapshotUsable(dir, process.execPath, `${process.env['NODE_OPTIONS'] ?? ''} --max-old-space-size=4096`), true, 'asked about those NODE_OPTIONS');
    fs.writeFileSync(identity, firstLine(identityText(process.execPath, blob)));
    assert.equal(snapshotUsable(dir), false, 'an older identity');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The allocator settings the launcher hands node, given the user's own environment. */
function allocatorSettings(userEnv: NodeJS.ProcessEnv): Record<string, string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-launcher-env-'));
  try {
    const node = path.join(tmp, 'node');
    const envFile = path.join(tmp, 'env');
    fs.writeFileSync(node, `#!/bin/sh\nenv > ${JSON.stringify(envFile)}\n`, { mode: 0o755 });
    const { GLIBC_TUNABLES: _tunables, MALLOC_ARENA_MAX: _arenas, MALLOC_TRIM_THRESHOLD_: _trim, ...rest } = process.env;
    const ran = spawnSync('/bin/sh', [LAUNCHER, node, '/cli/main.js', '0123456789abcdef', '/conn.json'], {
      encoding: 'utf8', env: { ...rest, TSGPU_CACHE_DIR: path.join(tmp, 'cache'), ...userEnv },
    });
    assert.equal(ran.status, 0, ran.stderr);
    const wanted = ['GLIBC_TUNABLES', 'MALLOC_ARENA_MAX', 'MALLOC_TRIM_THRESHOLD_', 'TSGPU_MALLOC_DEFAULTS'];
    return Object.fromEntries(fs.readFileSync(envFile, 'utf8').split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])
      .filter(([name]) => wanted.includes(name!)));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// Reading the 21 MB blob into memory and copying it touch every page of two fresh allocations: as
// transparent huge pages (where the system gives them on request), a start took 0.29 s to its
// first code where it took 0.44 s. The kernel takes the settings it made out of its cells' environment (main.ts).
test('the launcher asks glibc for huge pages, and for two arenas, unless the user set those; it names the ones it set', () => {
  const set = allocatorSettings({});
  assert.equal(set['GLIBC_TUNABLES'], 'glibc.malloc.hugetlb=1');
  assert.equal(set['MALLOC_ARENA_MAX'], '2');
  assert.deepEqual(set['TSGPU_MALLOC_DEFAULTS']?.trim().split(/\s+/).sort(), ['GLIBC_TUNABLES', 'MALLOC_ARENA_MAX', 'MALLOC_TRIM_THRESHOLD_']);
  const users = allocatorSettings({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536', MALLOC_ARENA_MAX: '8' });
  assert.equal(users['GLIBC_TUNABLES'], 'glibc.malloc.mmap_threshold=65536');
  assert.equal(users['MALLOC_ARENA_MAX'], '8');
  assert.deepEqual(users['TSGPU_MALLOC_DEFAULTS']?.trim().split(/\s+/), ['MALLOC_TRIM_THRESHOLD_']);
});
