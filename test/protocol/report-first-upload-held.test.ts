// The first upload to a GPU sets it up (backend, clock, staging) before it copies. A cell that
// starts the upload, yields once, then holds the thread in a host loop before `await p` holds the
// set-up up: the move ran from the call to its end, and the time the loop held it is host-busy,
// as it is for a later upload (set-up done). The cell times its own call, loop and end.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { progressOf, runOk, theReport, useReportKernel } from '../support/report';

/** The cell's own times: call to done, and its busy loop. */
function measuredIn(stdout: string): { callToDone: number; busy: number } {
  const match = /measured (\{.*\})/.exec(stdout);
  assert.ok(match !== null, `the cell printed no measurement: ${JSON.stringify(stdout)}`);
  return JSON.parse(match[1]!) as { callToDone: number; busy: number };
}

const HELD = (name: string): string => [
  `{ const t0 = performance.now(); const p = ${name}.to('gpu:0'); await new Promise((r) => setImmediate(r));`,
  'const tb = performance.now(); while (performance.now() - tb < 1100) {} const t1 = performance.now(); await p; const t2 = performance.now();',
  'console.log(`measured ${JSON.stringify({ callToDone: t2 - t0, busy: t1 - tb })}`); }',
].join('\n');

describe('inline report: an upload the cell holds up, first and later', () => {
  const kernel = useReportKernel();

  test('setup: cpu current, two 16 MiB host tensors, gpu:0 not used yet', async () => {
    await runOk(kernel(), '%device cpu\nconst H1 = tf.randomNormal([4 * 1024 * 1024]); const H2 = tf.randomNormal([4 * 1024 * 1024]);\nawait H1.data(); await H2.data();\n0');
  });

  for (const [what, name] of [['the first upload (gpu:0 set up by it)', 'H1'], ['a later upload', 'H2']] as const) {
    test(`${what}: its time is the cell's call-to-done, the loop's time in it as host busy`, async () => {
      const exchange = await runOk(kernel(), HELD(name));
      const { callToDone, busy } = measuredIn(streamText(exchange, 'stdout'));
      const moves = theReport(exchange).meta.transfers.filter((move) => move.direction === 'H2D');
      assert.equal(moves.length, 1, JSON.stringify(moves));
      const move = moves[0]!;
      const ms = move.waitMs + move.copyMs;
      const hostBusy = move.waits.filter((wait) => wait.cause === 'host-busy').reduce((sum, wait) => sum + wait.ms, 0);
      const line = theReport(exchange).text.split('\n')[0];
      assert.ok(ms <= callToDone + 1, `the move took ${ms.toFixed(1)} ms; the cell saw ${callToDone.toFixed(1)} ms from its call to its end: ${line}`);
      assert.ok(ms >= busy, `the move took ${ms.toFixed(1)} ms, less than the ${busy.toFixed(1)} ms the cell's loop held it: ${line}`);
      assert.ok(Math.abs(hostBusy - busy) <= 0.1 * busy, `host busy ${hostBusy.toFixed(1)} ms; the cell's loop ran ${busy.toFixed(1)} ms (10% allowed): ${line}`);
      if (name === 'H2') {
        // The move ran past a second: its bar's rate is bytes over the whole move, waits included, and says so;
        // the report's is over the copy alone. Unlabelled, the two read as one figure that disagrees.
        const shown = progressOf(exchange).texts.at(-1) ?? '';
        const rate = /\(([\d.]+) GB\/s overall, waits included\)$/.exec(shown);
        assert.ok(rate !== null, `the finished bar says its rate counts the waits: ${shown}`);
        const overall = move.bytes / ms / 1e6;
        assert.ok(Math.abs(Number(rate[1]) - overall) <= 0.15 * overall, `the bar says ${rate[1]} GB/s overall; the move's bytes over its whole time are ${overall.toFixed(3)} GB/s: ${shown}`);
      }
    });
  }
});
