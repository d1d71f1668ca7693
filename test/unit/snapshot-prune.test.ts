// Old start-up snapshot folders in the cache go once a new snapshot is built (snapshot-prune.ts):
// those whose files are gone or changed, never one in use (a build's lock, a start under way),
// never one still current, never anything that is not a snapshot folder.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pruneStaleSnapshots } from '../../kernel/startup/snapshot-prune';

/** A snapshot folder in `root` whose stamps name `file` as it is now (`changed`: with another size). */
function snapshotFolder(root: string, key: string, file: string, extra: Record<string, string> = {}, changed = false): string {
  const dir = path.join(root, `snapshot-${key}`);
  fs.mkdirSync(dir);
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  const stamp = { file, size: (stat?.size ?? 1) + (changed ? 1 : 0), mtimeMs: stat?.mtimeMs ?? 0 };
  fs.writeFileSync(path.join(dir, 'stamps.json'), JSON.stringify([stamp]));
  fs.writeFileSync(path.join(dir, 'kernel.blob'), Buffer.alloc(2 ** 20));
  for (const [name, text] of Object.entries(extra)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

test('snapshot folders whose package is gone or changed are removed once another is built; current, in-use and other folders stay', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-prune-'));
  try {
    const here = path.join(root, 'package-file.js');
    fs.writeFileSync(here, 'still here');
    const kept = snapshotFolder(root, '0000000000000000', here);
    const gone = snapshotFolder(root, '1111111111111111', path.join(root, 'deleted', 'package-file.js'));
    const changed = snapshotFolder(root, '2222222222222222', here, {}, true);
    const current = snapshotFolder(root, '3333333333333333', here);
    const building = snapshotFolder(root, '4444444444444444', path.join(root, 'deleted', 'x.js'), { 'build.lock': `${process.pid}\n` });
    const starting = snapshotFolder(root, '5555555555555555', path.join(root, 'deleted', 'x.js'), { [`start-${process.pid}`]: '' });
    const deadStart = snapshotFolder(root, '6666666666666666', path.join(root, 'deleted', 'x.js'), { 'start-999999999': '' });
    const notOurs = path.join(root, 'snapshot-mine');
    fs.mkdirSync(notOurs);
    // A folder with neither blob nor stamps: kept while a build may be writing it.
    const fresh = path.join(root, 'snapshot-7777777777777777');
    fs.mkdirSync(fresh);

    const line = pruneStaleSnapshots(kept, root);
    assert.match(line ?? '', /^removed 3 old start-up snapshot folders \(3 MB\)/);
    for (const dir of [gone, changed, deadStart]) assert.equal(fs.existsSync(dir), false, `${dir} should be gone`);
    for (const dir of [kept, current, building, starting, notOurs, fresh]) assert.equal(fs.existsSync(dir), true, `${dir} should stay`);

    // Nothing left to remove: no line. A folder outside the cache root prunes nothing beside it.
    assert.equal(pruneStaleSnapshots(kept, root), null);
    const elsewhere = snapshotFolder(root, '8888888888888888', path.join(root, 'deleted', 'y.js'));
    assert.equal(pruneStaleSnapshots(path.join(os.tmpdir(), 'snapshot-9999999999999999'), root), null);
    assert.equal(fs.existsSync(elsewhere), true);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
