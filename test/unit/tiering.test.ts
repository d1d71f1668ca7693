// The kernel's own work tiers up later than a cell's code (kernel/interpreter/tiering.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PACKAGE_ROOT } from '../../kernel/package-info';
import { V8_DEFAULT_BUDGET } from '../../kernel/interpreter/tiering';

test('the V8 this node runs is listed with its default interrupt budget, as `node --v8-options` prints it', () => {
  const printed = spawnSync(process.execPath, ['--v8-options'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const budget = /default: --interrupt-budget=(\d+)\b/.exec(printed.stdout)?.[1];
  assert.ok(budget !== undefined, 'node --v8-options names no --interrupt-budget');
  const [major, minor] = process.versions.v8.split('.');
  assert.equal(V8_DEFAULT_BUDGET[`${major}.${minor}`], Number(budget), `add '${major}.${minor}': ${budget} to V8_DEFAULT_BUDGET (kernel/interpreter/tiering.ts)`);
});

test('under the kernel\'s tiering a function called often is not optimized yet; under a cell\'s it is, and the kernel\'s tiering is back after', () => {
  // Each function is new, with a source of its own (one source would share its code and feedback);
  // the loop that calls it is never optimized, so it cannot inline it. Compiled on the spot, so the
  // verdict is read at once. 20,000 calls: optimized at V8's default budget from ~10,000 on, not
  // at the kernel's before ~100,000.
  const script = `
    const tiering = require(${JSON.stringify(path.join(PACKAGE_ROOT, 'dist', 'kernel', 'interpreter', 'tiering.js'))});
    let made = 0;
    const fresh = () => new Function('a', 'b', 'return (a + b) % ' + (1000 + made++));
    function drive(f) { let s = 0; for (let i = 0; i < 20000; i++) s = f(s, i); return s; }
    %NeverOptimizeFunction(drive);
    // Asked for, being compiled, or compiled by TurboFan (V8's optimization status bits).
    const optimized = (f) => (%GetOptimizationStatus(f) & (16 | 64 | 256 | 512 | 1024)) !== 0;
    (async () => {
      const before = fresh(); drive(before);
      tiering.useKernelTiering();
      const kernel = fresh(); drive(kernel);
      tiering.useCellTiering();
      const user = fresh(); drive(user);
      tiering.useKernelTiering();
      const after = fresh(); drive(after);
      process.stdout.write(JSON.stringify({ before: optimized(before), kernel: optimized(kernel), user: optimized(user), after: optimized(after) }));
    })();
  `;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-tiering-'));
  try {
    fs.writeFileSync(path.join(tmp, 'main.js'), script);
    const ran = spawnSync(process.execPath, ['--allow-natives-syntax', '--no-concurrent-recompilation', path.join(tmp, 'main.js')], { encoding: 'utf8' });
    assert.equal(ran.status, 0, ran.stderr);
    assert.deepEqual(JSON.parse(ran.stdout), { before: true, kernel: false, user: true, after: false });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
