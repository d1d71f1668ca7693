// 200 requests with bad, missing, truncated and wrong-content signatures, on shell and control,
// from an attacker's own connection: none may run, nothing about them may be published (tslab
// printed the correct signature of 182 of 200 on iopub), no key or signature text may appear
// anywhere the kernel writes, and the kernel keeps answering.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluate } from '../support/exchange';
import {
  droppedLogLines, Findings, firstContained, hostileKernel, parentIdOf, probe, rawLink,
} from '../support/hostile';
import { isRunning } from '../support/kernel-process';
import { refusedNasties } from '../support/nasty-frames';
import { sleep } from '../support/time';

const REQUESTS = 200;

describe('requests with bad signatures', () => {
  test(`${REQUESTS} badly signed requests on shell and control: 0 run, nothing published about them, the kernel still answers`, async (t) => {
    const kernel = await hostileKernel(t);
    const attacker = rawLink(t, kernel, { iopub: true });
    await attacker.subscribed(kernel);
    await evaluate(kernel, 'var forgedRuns: string[] = []');

    // The signature faults of the shared catalogue: execute_requests whose code records their name.
    const variants = refusedNasties().filter((nasty) => nasty.name.startsWith('signature:'));
    assert.ok(variants.length >= 15, `only ${variants.length} signature variants`);
    const ctx = {
      sign: (parts: readonly Buffer[]) => kernel.sign(parts),
      key: kernel.info.key,
      session: kernel.session,
      payload: (name: string) => `forgedRuns.push(${JSON.stringify(name)}); 0`,
    };
    const rejected = new Set<string>();
    /** Every signature we sent, and the correct signature of every forged message (what tslab leaked). */
    const secrets = new Set<string>([kernel.info.key]);
    const receivedBefore = kernel.received.length;
    const rawBefore = attacker.received.length;
    const sends: Promise<void>[] = [];
    let shutdowns = 0;
    let interrupts = 0;
    const variantsUsed = new Set<string>();
    for (let i = 0; i < REQUESTS; i++) {
      const channel = i % 2 === 0 ? 'shell' : 'control';
      if (i % 10 === 4 || i % 10 === 9) {
        // Two in ten: a badly signed shutdown_request (control) or interrupt_request (shell).
        const msg = kernel.makeMessage(channel === 'control' ? 'shutdown_request' : 'interrupt_request', { restart: false });
        const good = kernel.frames(msg);
        const correct = good[1]?.toString() ?? '';
        secrets.add(correct);
        rejected.add(msg.header.msg_id);
        if (channel === 'control') shutdowns++;
        else interrupts++;
        sends.push(attacker.send(channel, kernel.frames(msg, `${correct.slice(0, 40)}${'0'.repeat(24)}`)));
        continue;
      }
      const variant = variants[(i - shutdowns - interrupts) % variants.length];
      assert.ok(variant !== undefined);
      variantsUsed.add(variant.name);
      const { frames, msgId } = variant.build(ctx);
      assert.ok(msgId !== undefined, `${variant.name} has no msg_id`);
      rejected.add(msgId);
      secrets.add(frames[1]?.toString() ?? '');
      secrets.add(kernel.sign(frames.slice(2, 6)));
      sends.push(attacker.send(channel, frames));
    }
    await Promise.all(sends);
    assert.equal(variantsUsed.size, variants.length, 'every signature fault was sent');
    const sentAt = performance.now();

    // Each channel handles its messages in order: once these are answered, the forged ones were seen.
    const probes = [await probe(kernel, 'shell'), await probe(kernel, 'control')];
    await sleep(500);
    const findings = new Findings();
    for (const result of probes) findings.check(result.ok, `kernel_info on ${result.channel} after the barrage: ${result.error ?? ''}`);
    findings.check(isRunning(kernel.pid), `the kernel process died (${shutdowns} badly signed shutdown_requests were sent)`);

    const ran = findings.failures.length === 0 ? await evaluate(kernel, 'JSON.stringify(forgedRuns)') : 'unknown (kernel down)';
    findings.check(ran === "'[]'", `badly signed requests ran: ${ran}`);
    if (findings.failures.length === 0) {
      // Positive control: the same payload, correctly signed, does run (so 0 above means refused, not broken code).
      await evaluate(kernel, ctx.payload('correctly signed control'));
      assert.equal(await evaluate(kernel, 'JSON.stringify(forgedRuns)'), `'["correctly signed control"]'`);
    }

    const about = kernel.received.filter((m) => rejected.has(String(m.parent_header['msg_id'] ?? '')));
    findings.check(about.length === 0, () => `the kernel sent ${about.length} messages about rejected requests: ${about.slice(0, 5)
      .map((m) => `${m.channel}/${m.header.msg_type}`).join(', ')}`);
    const rawAbout = attacker.received.filter((m) => rejected.has(parentIdOf(m.frames) ?? ''));
    findings.check(rawAbout.length === 0, () => `the attacker's connection got ${rawAbout.length} messages about its rejected requests `
      + `(${rawAbout.slice(0, 5).map((m) => m.channel).join(', ')})`);

    const iopubDuring = attacker.received.slice(rawBefore).filter((m) => m.channel === 'iopub');
    for (const message of [...attacker.received.slice(rawBefore)]) {
      const text = message.frames.map((frame) => frame.toString('latin1')).join('\n');
      const leaked = firstContained(text, secrets);
      findings.check(leaked === undefined, `a ${message.channel} message contains signature or key text ${JSON.stringify(leaked)}`);
    }
    for (const message of kernel.received.slice(receivedBefore)) {
      const leaked = firstContained(JSON.stringify([message.header, message.parent_header, message.metadata, message.content]), secrets);
      findings.check(leaked === undefined, `${message.channel}/${message.header.msg_type} contains signature or key text ${JSON.stringify(leaked)}`);
    }
    const stderr = kernel.kernelOutput();
    const leakedInLog = firstContained(stderr, secrets);
    findings.check(leakedInLog === undefined, `the kernel's stderr contains signature or key text ${JSON.stringify(leakedInLog)}`);

    t.diagnostic(`sent ${REQUESTS} (${REQUESTS - shutdowns - interrupts} execute_request over ${variants.length} signature faults, ${shutdowns} shutdown_request, `
      + `${interrupts} interrupt_request), half on shell and half on control; executed: ${ran === "'[]'" ? 0 : ran}`);
    t.diagnostic(`iopub messages the attacker saw from the barrage to the end: ${iopubDuring.length} (busy/idle of the checks' requests); `
      + `about rejected requests: ${about.length + rawAbout.length}; stderr lines about drops: ${droppedLogLines(kernel)}`);
    t.diagnostic(`after the barrage: shell kernel_info ${probes[0]?.ms.toFixed(0)} ms, control ${probes[1]?.ms.toFixed(0)} ms `
      + `(${(performance.now() - sentAt).toFixed(0)} ms from the last send to the end of the checks)`);
    if (findings.failures.length === 0) assert.equal(await evaluate(kernel, '6 * 7'), '42');
    findings.assertNone(`kernel stderr (tail):\n${stderr.slice(-3000)}`);
  });
});
