// A busy cell must not make the kernel look dead: the heartbeat and control channel keep answering.
// No wall-clock thresholds here (2 shared cores): only "answered before the cell finished".
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertBusyThenIdle } from '../support/exchange';
import { freshKernel, useKernel } from '../support/fixtures';
import { KernelClient, PendingRequest } from '../support/kernel-client';
import { okContent } from '../support/message-schema';
import { sleep } from '../support/time';

const TEN_SECOND_LOOP = '{ const end = Date.now() + 10_000; while (Date.now() < end) {} }';

async function startBusyCell(kernel: KernelClient): Promise<PendingRequest> {
  const running = kernel.startExecute(TEN_SECOND_LOOP, {}, { timeoutMs: 30_000 });
  await running.iopubMessage('execute_input');
  await sleep(200);
  return running;
}

describe('answering while a cell runs a 10 s synchronous loop', () => {
  const kernel = useKernel();

  test('the heartbeat and kernel_info on control answer before the busy cell finishes', async (t) => {
    const running = await startBusyCell(kernel());
    assert.equal(running.reply, undefined, 'the loop finished before the checks started');

    const beats: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { ms, echo } = await kernel().heartbeat(5000, [`beat-${i}`]);
      assert.deepEqual(echo, [`beat-${i}`]);
      assert.equal(running.reply, undefined, `heartbeat ${i} was answered only after the cell finished`);
      beats.push(ms);
      await sleep(50);
    }
    const infoStarted = performance.now();
    const info = await kernel().request('control', 'kernel_info_request', {}, { timeoutMs: 15_000 });
    const infoMs = performance.now() - infoStarted;
    assert.equal(running.reply, undefined, 'kernel_info on control was answered only after the cell finished');
    assertBusyThenIdle(info);
    okContent(info.reply, 'kernel_info_reply');
    t.diagnostic(`heartbeat round trips during the loop (ms): ${beats.map((b) => b.toFixed(1)).join(', ')}`);
    t.diagnostic(`control kernel_info during the loop: ${infoMs.toFixed(1)} ms`);

    // End the loop early; if interrupts were broken it would still end by itself within 10 s.
    await kernel().request('control', 'interrupt_request', {}, { timeoutMs: 15_000 });
    await running.done();
  });
});

describe('stopping a kernel whose cell is busy', () => {
  test('shutdown_request on control during a 10 s loop replies and the process exits with code 0', async (t) => {
    const k = await freshKernel(t);
    const running = await startBusyCell(k);
    const started = performance.now();
    const exchange = await k.request('control', 'shutdown_request', { restart: false }, { waitIdle: false });
    assert.equal(running.reply, undefined, 'shutdown was answered only after the cell finished');
    assert.equal(okContent(exchange.reply, 'shutdown_reply').restart, false);
    const exit = await k.waitForExit(5000);
    t.diagnostic(`process exit ${JSON.stringify(exit)} ${(performance.now() - started).toFixed(0)} ms after the request`);
    assert.deepEqual(exit, { code: 0, signal: null });
  });
});
