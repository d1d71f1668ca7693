// 500 execute_requests sent back to back without waiting (tslab: 206 replies, 303 cells ran):
// 500 replies in order, each with its own parent, execution counts 1..500 in order, and every
// request's status busy and idle.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertBusyThenIdle, executeReply, iopubOf, resultText } from '../support/exchange';
import { Findings, hostileKernel } from '../support/hostile';
import type { Exchange } from '../support/kernel-client';

const CELLS = 500;

describe('a burst of execute_requests', () => {
  test(`${CELLS} execute_requests sent back to back: ${CELLS} replies in order, counts 1..${CELLS}, every idle`, async (t) => {
    const kernel = await hostileKernel(t);
    const started = performance.now();
    // Each send is queued at once; the client's socket sends them one after another as fast as it can.
    const pending = Array.from({ length: CELLS }, (_, i) => kernel.startExecute(`${i + 1}`, {}, { timeoutMs: 180_000 }));
    const replyTimes = await Promise.all(pending.map((p) => p.replied().then(() => performance.now())));
    const exchanges: Exchange[] = await Promise.all(pending.map((p) => p.done()));
    const totalMs = performance.now() - started;

    const findings = new Findings();
    let previousSeq = 0;
    let inOrder = 0;
    exchanges.forEach((exchange, i) => {
      const n = i + 1;
      const reply = executeReply(exchange);
      findings.check(pending[i]?.replies.length === 1, `request ${n}: ${pending[i]?.replies.length} replies`);
      findings.check(exchange.reply.parent_header['msg_id'] === exchange.request.header.msg_id, `request ${n}: reply has another parent`);
      findings.check(reply.status === 'ok', `request ${n}: status ${reply.status}`);
      findings.check(reply.execution_count === n, `request ${n}: execution_count ${reply.execution_count}`);
      findings.check(resultText(exchange) === String(n), `request ${n}: result ${resultText(exchange)}`);
      findings.check(iopubOf(exchange, 'execute_input')[0]?.execution_count === n, `request ${n}: execute_input count`);
      try {
        assertBusyThenIdle(exchange);
      } catch (error) {
        findings.check(false, `request ${n}: ${(error as Error).message.split('\n')[0]}`);
      }
      if (findings.check(exchange.reply.seq > previousSeq, `reply ${n} arrived before reply ${n - 1}`)) inOrder++;
      previousSeq = exchange.reply.seq;
    });
    const ids = new Set(exchanges.map((e) => e.request.header.msg_id));
    const idles = kernel.received.filter((m) => m.channel === 'iopub' && m.header.msg_type === 'status'
      && m.content['execution_state'] === 'idle' && ids.has(String(m.parent_header['msg_id'] ?? ''))).length;
    findings.check(idles === CELLS, `${idles} status idle for ${CELLS} requests`);
    const firstReply = Math.min(...replyTimes) - started;
    t.diagnostic(`${exchanges.length}/${CELLS} replies, ${inOrder} in order, ${idles} idle; execution counts 1..${exchanges.length}`);
    t.diagnostic(`total ${(totalMs / 1000).toFixed(2)} s from the first send to the last idle (${(totalMs / CELLS).toFixed(1)} ms per cell; first reply after ${firstReply.toFixed(0)} ms)`);
    findings.assertNone();
    assert.equal(exchanges.length, CELLS);
  });
});
