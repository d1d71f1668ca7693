// One valid execute_request replayed byte-identical 20 times (tslab ran all 20): the kernel runs it
// once, answers it once, and drops the copies whether they come back on the same socket, on
// control, or from another connection.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluate, iopubOf, resultText } from '../support/exchange';
import { Findings, hostileKernel, parentIdOf, probe, rawLink } from '../support/hostile';
import { executeContent } from '../support/kernel-client';
import { sleep } from '../support/time';

const REPLAYS = 20;

describe('replayed requests', () => {
  test(`a valid execute_request replayed ${REPLAYS}× byte-identical runs once`, async (t) => {
    const kernel = await hostileKernel(t);
    const attacker = rawLink(t, kernel);
    await evaluate(kernel, 'var replayRuns = 0');

    const msg = kernel.makeMessage('execute_request', executeContent('replayRuns += 1; replayRuns'));
    const original = kernel.track(msg, 'shell');
    const frames = kernel.frames(msg);
    await kernel.sendFrames('shell', frames);
    const first = await original.done();
    assert.equal(resultText(first), '1', 'the original request must run');

    // 10 copies on the same shell socket, 5 on control, 5 from the attacker's own shell connection.
    for (let i = 0; i < REPLAYS; i++) {
      const bytes = frames.map((frame) => Buffer.from(frame));
      if (i < 10) await kernel.sendFrames('shell', bytes);
      else if (i < 15) await kernel.sendFrames('control', bytes);
      else await attacker.send('shell', bytes);
    }
    const probes = [await probe(kernel, 'shell'), await probe(kernel, 'control')];
    await sleep(500);

    const findings = new Findings();
    for (const result of probes) findings.check(result.ok, `kernel_info on ${result.channel} after the replays: ${result.error ?? ''}`);
    const runs = await evaluate(kernel, 'replayRuns');
    findings.check(runs === '1', `replayRuns is ${runs}: the cell ran ${runs} times for 1 original + ${REPLAYS} copies`);
    findings.check(original.replies.length === 1, `${original.replies.length} execute_replies for one request`);
    const inputs = iopubOf(original, 'execute_input').length;
    findings.check(inputs === 1, `${inputs} execute_input messages for one request`);
    const stray = kernel.messagesFor(msg.header.msg_id).length - first.iopub.length - 1;
    findings.check(stray === 0, `${stray} messages for the request after its first exchange`);
    const toAttacker = attacker.received.filter((m) => parentIdOf(m.frames) === msg.header.msg_id && m.channel !== 'iopub');
    findings.check(toAttacker.length === 0, `the attacker's connection got ${toAttacker.length} replies to the replayed request`);
    t.diagnostic(`sent 1 original + ${REPLAYS} byte-identical copies (10 shell, 5 control, 5 from another connection): `
      + `executed ${runs} time(s), ${original.replies.length} reply`);
    findings.assertNone(`kernel stderr (tail):\n${kernel.kernelOutput().slice(-2000)}`);
  });
});
