// An interrupt stops everything its cell started, not just the cell's reply (issue 15). Three
// runaway loops, each interrupted about a second in, 20 rounds each on one kernel:
// - a timer loop (`await new Promise((r) => setTimeout(r, 1)); c++`),
// - a GPU readback loop on gpu:0 (`await xs.sum().data(); c++`),
// - `model.fit` for 300 epochs on gpu:0, with a progress bar.
// After each interrupt the loop's counter is read, and read again at least 1.5 s later: it must not
// have moved (before, the timer loop went 818 → 2139). The cell right after the interrupt runs one
// op of its own, and its report shows that op and nothing else (leftover work would show up there).
// After a fit is interrupted, its bar ends "interrupted", and the next fit on the same model runs
// from the weights it had (before: "Cannot start training because another fit() call is ongoing").
// Rounds overlap: a counter's second read waits while the next loops run, which also shows that
// leftover work does not run on beside a later cell.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { executeReply, resultText, streamText } from '../support/exchange';
import { describeOutcome, runOk, useDeviceKernel, valueOf } from '../support/devices';
import type { Exchange, KernelClient } from '../support/kernel-client';
import { okContent } from '../support/message-schema';
import { readReport, reportsOf } from '../support/report';
import { sleep } from '../support/time';

const ROUNDS = Number(process.env["ROUNDS"] ?? 20);
/** How long each loop runs before it is interrupted. */
const RUN_MS = 1000;
/** A counter must stay still this long after its loop was interrupted. */
const QUIET_MS = 1500;

interface Loop {
  name: string;
  /** The cell that runs until interrupted; it counts into `counts[key]`. */
  code(key: string): string;
}

const TIMER: Loop = {
  name: 'timer loop',
  code: (key) => `counts.${key} = 0;\nfor (;;) { await new Promise((r) => setTimeout(r, 1)); counts.${key}++; }`,
};
const GPU_READBACK: Loop = {
  name: 'GPU readback loop on gpu:0',
  code: (key) => `counts.${key} = 0;\nfor (;;) { await xs.sum().data(); counts.${key}++; }`,
};
const FIT: Loop = {
  name: 'model.fit for 300 epochs on gpu:0',
  code: (key) => `counts.${key} = 0;\nawait model.fit(fx, fy, { epochs: 300, batchSize: 32, verbose: 0, callbacks: [progress.fit({ epochs: 300 }), `
    + `{ onEpochEnd: async () => { counts.${key}++; } }] })`,
};

const SETUP = `
const counts: Record<string, number> = {};
var kept = 41;
const xs = tf.randomNormal([1024]);
await xs.to('gpu:0');
await xs.sum().data();
const model = tf.sequential({ layers: [tf.layers.dense({ units: 8, inputShape: [4], activation: 'relu' }), tf.layers.dense({ units: 1 })] });
model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
await model.to('gpu:0');
const fx = await tf.randomNormal([64, 4]).to('gpu:0');
const fy = await tf.randomNormal([64, 1]).to('gpu:0');
await model.fit(fx, fy, { epochs: 1, batchSize: 32, verbose: 0 });
const one = await tf.ones([4]).to('gpu:0');
1`;

async function interruptAfter(kernel: KernelClient, code: string): Promise<Exchange> {
  const running = kernel.startExecute(code, {}, { timeoutMs: 120_000 });
  await running.iopubMessage('execute_input');
  await sleep(RUN_MS);
  assert.equal(running.reply, undefined, `the loop ended by itself before the interrupt:\n${JSON.stringify(running.reply?.content)}`);
  okContent((await kernel.request('control', 'interrupt_request', {}, { timeoutMs: 10_000 })).reply, 'interrupt_reply');
  const done = await running.done();
  const reply = executeReply(done);
  assert.equal(reply.status === 'error' ? reply.ename : reply.status, 'Interrupted', describeOutcome(done));
  return done;
}

/** The ops each device ran according to a cell's report (none when it has no report). */
function opsOf(exchange: Exchange): Record<string, number> {
  const reports = reportsOf(exchange);
  assert.ok(reports.length <= 1, `more than one report:\n${describeOutcome(exchange)}`);
  const ops: Record<string, number> = {};
  for (const use of reports[0] ? readReport(reports[0]).meta.devices : []) if (use.ops > 0) ops[use.device] = use.ops;
  return ops;
}

interface FirstRead {
  key: string;
  loop: string;
  round: number;
  value: string | undefined;
  at: number;
}

describe('an interrupt stops everything its cell started', () => {
  const kernel = useDeviceKernel();

  test(`${ROUNDS} rounds each of a ${TIMER.name}, a ${GPU_READBACK.name} and ${FIT.name}, interrupted ${RUN_MS} ms in: `
    + `every counter still ${QUIET_MS} ms later, the next cell's report holds only its own op, the next fit runs`, async (t) => {
    // Node's declarations load now (a cell naming a Node global asks for them), not on an idle
    // gap between rounds, where their seconds of loading would delay the next loop's start.
    await runOk(kernel(), 'process.pid > 0');
    await runOk(kernel(), SETUP);
    const waiting: FirstRead[] = [];
    const problems: string[] = [];
    const stopped: Record<string, number> = {};
    const readAgain = async (all: boolean): Promise<void> => {
      while (waiting.length > 0) {
        const first = waiting[0]!;
        const left = first.at + QUIET_MS - performance.now();
        if (left > 0 && !all) return;
        if (left > 0) await sleep(left);
        waiting.shift();
        const later = await valueOf(kernel(), `counts.${first.key}`);
        if (later === first.value) stopped[first.loop] = (stopped[first.loop] ?? 0) + 1;
        else problems.push(`${first.loop} #${first.round}: the counter went ${first.value} → ${later} after the interrupt`);
      }
    };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [loop, prefix] of [[TIMER, 't'], [GPU_READBACK, 'g'], [FIT, 'f']] as const) {
        const key = `${prefix}${round}`;
        const interrupted = await interruptAfter(kernel(), loop.code(key));
        // The cell right after: one op of its own on gpu:0, then the counter.
        const next = await runOk(kernel(), `one.add(1).dispose();\ncounts.${key}`);
        const value = resultText(next);
        waiting.push({ key, loop: loop.name, round, value, at: performance.now() });
        if (!(Number(value) > 0)) problems.push(`${loop.name} #${round}: the loop had not counted when it was interrupted (${value})`);
        const ops = opsOf(next);
        if (JSON.stringify(ops) !== JSON.stringify({ 'gpu:0': 1 })) {
          problems.push(`${loop.name} #${round}: the next cell ran 1 op on gpu:0 but its report shows ${JSON.stringify(ops)}`);
        }
        const stderr = streamText(next, 'stderr');
        if (stderr !== '') problems.push(`${loop.name} #${round}: the next cell printed on stderr: ${stderr.slice(0, 300)}`);
        if (loop === FIT) {
          const bar = interrupted.iopub.filter((message) => ['display_data', 'update_display_data'].includes(message.header.msg_type))
            .map((message) => String((message.content['data'] as Record<string, unknown>)['text/plain'])).filter((text) => text.includes('epoch')).at(-1) ?? '';
          if (!bar.endsWith('interrupted')) problems.push(`fit #${round}: the progress bar's last state is ${JSON.stringify(bar)}`);
          const epochs = await valueOf(kernel(), '(await model.fit(fx, fy, { epochs: 2, batchSize: 32, verbose: 0 })).epoch.length');
          if (epochs !== '2') problems.push(`fit #${round}: the next fit on the same model gave ${epochs}`);
        }
        await readAgain(false);
      }
    }
    await readAgain(true);
    // Earlier state survives every interrupt, and the model trained on: its loss is below where it started.
    assert.equal(await valueOf(kernel(), 'kept + 1'), '42');
    t.diagnostic(`stopped and still ${QUIET_MS} ms later: ${JSON.stringify(stopped)}`);
    assert.deepEqual(problems, []);
    for (const loop of [TIMER, GPU_READBACK, FIT]) assert.equal(stopped[loop.name], ROUNDS, loop.name);
  });
});
