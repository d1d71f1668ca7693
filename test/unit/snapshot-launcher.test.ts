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
