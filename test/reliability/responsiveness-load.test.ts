// The heartbeat and control while a cell keeps the main thread busy for 5 s (tslab answered nothing
// until the cell ended): each probe must be answered before the cell ends; the latencies are
// reported, not asserted (two shared cores).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { executeReply } from '../support/exchange';
import { describeMs, hostileKernel, probe } from '../support/hostile';
import { sleep } from '../support/time';

const BUSY_MS = 5000;

describe('responsiveness under a busy cell', () => {
  test('heartbeat and control kernel_info answer during a 5 s busy cell', async (t) => {
    const kernel = await hostileKernel(t);
    const running = kernel.startExecute(`{ const end = Date.now() + ${BUSY_MS}; while (Date.now() < end) {} } 'done'`, {}, { timeoutMs: 30_000 });
    await running.iopubMessage('execute_input');
    const cellStarted = performance.now();
    await sleep(100);
    const beats: { ms: number; at: number }[] = [];
    const controls: { ms: number; at: number }[] = [];
    const failures: string[] = [];
    while (running.reply === undefined && performance.now() - cellStarted < BUSY_MS - 300) {
      try {
        const { ms, echo } = await kernel.heartbeat(3000, ['busy-beat']);
        assert.deepEqual(echo, ['busy-beat']);
        beats.push({ ms, at: performance.now() });
      } catch (error) {
        failures.push(`heartbeat: ${(error as Error).message}`);
      }
      const control = await probe(kernel, 'control', 3000);
      if (control.ok) controls.push({ ms: control.ms, at: performance.now() });
      else failures.push(`control kernel_info: ${control.error ?? ''}`);
      await sleep(100);
    }
    const exchange = await running.done();
    const endedAt = exchange.reply.receivedAt;
    assert.equal(executeReply(exchange).status, 'ok');
    const cellMs = endedAt - cellStarted;
    const beforeEnd = (list: { at: number }[]): number => list.filter((p) => p.at < endedAt).length;
    t.diagnostic(`busy cell ran ${(cellMs / 1000).toFixed(2)} s after its execute_input`);
    t.diagnostic(`heartbeat during the cell: ${describeMs(beats.map((b) => b.ms))}; ${beforeEnd(beats)}/${beats.length} answered before the cell ended`);
    t.diagnostic(`control kernel_info during the cell: ${describeMs(controls.map((c) => c.ms))}; ${beforeEnd(controls)}/${controls.length} answered before the cell ended`);
    assert.deepEqual(failures, [], 'probes that failed during the busy cell');
    assert.ok(beats.length >= 5 && controls.length >= 5, `too few probes ran during the cell (${beats.length} heartbeats, ${controls.length} kernel_info)`);
    assert.equal(beforeEnd(beats), beats.length, 'heartbeats answered only after the cell ended');
    assert.equal(beforeEnd(controls), controls.length, 'control kernel_info answered only after the cell ended');
  });
});
