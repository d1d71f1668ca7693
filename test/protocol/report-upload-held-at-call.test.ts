// An upload is timed from the cell's call. Code the cell runs before the move gets going holds it
// up: `await null` then a busy loop parks the move at one of its own awaits (for a first upload,
// in the middle of the GPU's set-up); a loop right after the call, with no await between, runs
// before the move has started at all. Either way the loop's time is host busy, never set-up, and
// it is part of the move's time. The cell times its own call, loop and end.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { runOk, theReport, useReportKernel } from '../support/report';

/** The cell's own times: call to done, and its busy loop. */
function measuredIn(stdout: string): { callToDone: number; busy: number } {
  const match = /measured (\{.*\})/.exec(stdout);
  assert.ok(match !== null, `the cell printed no measurement: ${JSON.stringify(stdout)}`);
  return JSON.parse(match[1]!) as { callToDone: number; busy: number };
}

const LOOP_MS = 400;

/**
 * The cell's own fence on gpu:0: it ends in the same poll of Dawn's as the check of the upload's new
 * GPU buffer, and the cell's loop after it then runs in that poll's jobs, ahead of the move's code.
 */
const OWN_FENCE = "await (tf.engine() as unknown as { registry: Record<string, { device: { queue: { onSubmittedWorkDone(): Promise<void> } } }> }).registry['gpu:0']!.device.queue.onSubmittedWorkDone();";

/**
 * `between`: how many `await null` lie between the call and the loop (0: the loop follows the call
 * at once), or the code that does.
 */
const HELD = (call: string, between: number | string): string => [
  `{ const t0 = performance.now(); const p = ${call}; ${typeof between === 'string' ? between : ' await null;'.repeat(between)}`,
  `const tb = performance.now(); const end = Date.now() + ${LOOP_MS}; while (Date.now() < end) {} const t1 = performance.now(); await p; const t2 = performance.now();`,
  'console.log(`measured ${JSON.stringify({ callToDone: t2 - t0, busy: t1 - tb })}`); }',
].join('\n');

describe('inline report: an upload held by the cell\'s code before it gets going', () => {
  const kernel = useReportKernel();

  test('setup: cpu current, 16 MiB host tensors, gpu:0 not used yet', async () => {
    await runOk(kernel(), '%device cpu\nconst U = [0, 1, 2, 3, 4, 5, 6].map(() => tf.randomNormal([4 * 1024 * 1024])); for (const u of U) await u.data(); const S = tf.randomNormal([4096]);\n0');
  });

  // Two awaits park a later upload where it waits for the GPU's queued work (none): an await
  // that ends at once unless the thread is elsewhere. A move back (x.cpu()) is timed the same way,
  // and so is a small upload (one write, no wait for queued work).
  // [what, the call, awaits (or code) before the loop, first use of gpu:0, direction, a cell run before]
  const cases = [
    ['the first upload (gpu:0 set up by it), `await null` then a loop', "U[0].to('gpu:0')", 1, true, 'H2D', null],
    ['a later upload, `await null` then a loop', "U[1].to('gpu:0')", 1, false, 'H2D', null],
    ['a later upload, a loop right after the call', "U[2].to('gpu:0')", 0, false, 'H2D', null],
    ['a later upload, two `await null` then a loop', "U[3].to('gpu:0')", 2, false, 'H2D', null],
    // Its tensor on gpu:0, and the readback's staging buffers made (by a move back of its own).
    ['a move back to the host, a loop right after the call', 'U[4].cpu()', 0, false, 'D2H', "await U[4].to('gpu:0'); await U[0].cpu(); 0"],
    // The loop ran in the jobs of the poll that answered the new buffer's check: the move's code came
    // back after it, and a 16 MiB upload showed 'copy 514 ms, 0.008 GB/s'.
    ['a later upload, the cell\'s own GPU fence then a loop', "U[5].to('gpu:0')", OWN_FENCE, false, 'H2D', null],
    // The cell's fence asked for after the move's check (30 ticks in): Dawn answers both in one poll,
    // the check first; the loop runs between that answer and the move's code coming back to it, and a
    // 16 MiB upload showed 'copy 458 ms, 0.037 GB/s' (found in review).
    ['a later upload, 30 `await null`, the cell\'s own GPU fence then a loop', "U[6].to('gpu:0')", `for (let i = 0; i < 30; i++) await null; ${OWN_FENCE}`, false, 'H2D', null],
    ['a 16 KiB upload (one write), a loop right after the call', "S.to('gpu:0')", 0, false, 'H2D', null],
    ['a 16 KiB upload, two `await null` then a loop', "S.to('gpu:0')", 2, false, 'H2D', 'await S.cpu(); 0'],
  ] as const;
  for (const [what, call, between, firstUse, direction, before] of cases) {
    test(`${what}: the loop's time is host busy and in the move's time`, async () => {
      if (before !== null) await runOk(kernel(), before);
      const exchange = await runOk(kernel(), HELD(call, between));
      const { callToDone, busy } = measuredIn(streamText(exchange, 'stdout'));
      const moves = theReport(exchange).meta.transfers.filter((move) => move.direction === direction);
      assert.equal(moves.length, 1, JSON.stringify(moves));
      const move = moves[0]!;
      const ms = move.waitMs + move.copyMs;
      const sum = (cause: string): number => move.waits.filter((wait) => wait.cause === cause).reduce((total, wait) => total + wait.ms, 0);
      const hostBusy = sum('host-busy');
      const setUp = sum('gpu-setup') + sum('staging-setup');
      const line = theReport(exchange).text.split('\n')[0];
      assert.ok(ms <= callToDone + 1, `the move took ${ms.toFixed(1)} ms; the cell saw ${callToDone.toFixed(1)} ms from its call to its end: ${line}`);
      assert.ok(ms >= busy, `the move took ${ms.toFixed(1)} ms, less than the ${busy.toFixed(1)} ms the cell's loop held it: ${line}`);
      assert.ok(Math.abs(hostBusy - busy) <= 0.1 * busy, `host busy ${hostBusy.toFixed(1)} ms; the cell's loop ran ${busy.toFixed(1)} ms (10% allowed): ${line}`);
      // Set-up is what is left of the call-to-done time once the loop is taken out, at most.
      assert.ok(setUp <= callToDone - busy + 1, `set-up ${setUp.toFixed(1)} ms; the cell's call-to-done less its loop is ${(callToDone - busy).toFixed(1)} ms: ${line}`);
      if (firstUse) {
        assert.ok(setUp > 0, `the first upload set gpu:0 up, and the report names no set-up: ${line}`);
        assert.match(line ?? '', / gpu:0 set-up \(first use\)/, 'the set-up is worded as the GPU\'s set-up, not staging\'s alone');
      } else {
        // Its only set-up is the clearing of its new GPU buffer (report-upload-new-buffer.test.ts).
        assert.equal(sum('gpu-setup'), 0, `a later move has no GPU set-up to wait for: ${line}`);
      }
    });
  }
});
