// 2,000 malformed messages on shell and control (ipykernel's control channel died after one bad
// delimiter; tslab lost 4 of 20 health probes): wrong frame counts, missing or near-miss
// delimiters, bad UTF-8, invalid JSON, lone surrogates, wrong field types, megabyte strings,
// unknown msg_types (the names every object inherits among them), empty frames, odd content.
// Health probes (kernel_info on shell and control) every 100 messages must all be answered, no
// malformed message may run or be answered, and interrupt and shutdown on control must still work.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { evaluate, executeReply } from '../support/exchange';
import {
  describeMs, droppedLogLines, Findings, hostileKernel, MiB, parentIdOf, probe, type ProbeResult, rawLink, type RawLink, rawProbe, msgTypeOf,
} from '../support/hostile';
import type { KernelClient } from '../support/kernel-client';
import { isRunning } from '../support/kernel-process';
import { okContent } from '../support/message-schema';
import { allNasties, deeplyNestedHeader, type Nasty, type NastyContext, refusedNasties, ignoredNasties } from '../support/nasty-frames';
import { sleep } from '../support/time';

const MESSAGES = 2000;
const PROBE_EVERY = 100;

interface Sent {
  nasty: Nasty;
  channel: 'shell' | 'control' | 'stdin';
  msgId: string | undefined;
  bytes: number;
}

function nastyContext(kernel: KernelClient): NastyContext {
  return {
    sign: (parts) => kernel.sign(parts),
    key: kernel.info.key,
    session: kernel.session,
    payload: (name) => `hostileRuns.push(${JSON.stringify(name)}); 0`,
  };
}

async function sendNasty(attacker: RawLink, ctx: NastyContext, nasty: Nasty, channel: Sent['channel'], log: Sent[]): Promise<void> {
  const { frames, msgId } = nasty.build(ctx);
  log.push({ nasty, channel, msgId, bytes: frames.reduce((sum, frame) => sum + frame.length, 0) });
  await attacker.send(channel, frames);
}

/** Both channels' health probes; a failure stops the barrage (a dead kernel only times out). */
async function probeBoth(kernel: KernelClient, results: ProbeResult[], timeoutMs = 15_000): Promise<boolean> {
  const both = [await probe(kernel, 'shell', timeoutMs), await probe(kernel, 'control', timeoutMs)];
  results.push(...both);
  return both.every((result) => result.ok);
}

/** What the kernel sent back about these messages (to anyone), grouped by message kind. */
function answersAbout(kernel: KernelClient, attacker: RawLink, sent: readonly Sent[]): Map<string, Map<string, number>> {
  const byId = new Map(sent.filter((s) => s.msgId !== undefined).map((s) => [s.msgId as string, s]));
  const found = new Map<string, Map<string, number>>();
  const add = (s: Sent, what: string): void => {
    const kinds = found.get(s.nasty.name) ?? new Map<string, number>();
    kinds.set(what, (kinds.get(what) ?? 0) + 1);
    found.set(s.nasty.name, kinds);
  };
  for (const m of kernel.received) {
    const s = byId.get(String(m.parent_header['msg_id'] ?? ''));
    if (s !== undefined) add(s, `${m.channel}/${m.header.msg_type}${m.header.msg_type === 'status' ? `:${String(m.content['execution_state'])}` : ''}`);
  }
  for (const m of attacker.received) {
    const s = byId.get(parentIdOf(m.frames) ?? '');
    if (s !== undefined) add(s, `${m.channel}/${msgTypeOf(m.frames) ?? '?'} to the sender`);
  }
  return found;
}

describe('malformed messages', () => {
  test(`${MESSAGES} malformed messages on shell and control, probes every ${PROBE_EVERY}: every probe answered, nothing runs, `
    + 'interrupt and shutdown on control still work', async (t) => {
    const kernel = await hostileKernel(t);
    const attacker = rawLink(t, kernel);
    const ctx = nastyContext(kernel);
    await evaluate(kernel, 'var hostileRuns: string[] = []');
    const secret = `tsgpu-secret-${randomUUID()}`;
    const secretCell = await kernel.execute(`const secretMarker = ${JSON.stringify(secret)}; 0`);
    assert.equal(executeReply(secretCell).status, 'ok');

    const nasties = allNasties();
    const sent: Sent[] = [];
    const probes: ProbeResult[] = [];
    const findings = new Findings();
    let alive = true;
    const started = performance.now();

    // Triage: each kind once on shell and once on control, each followed by probes, so a kind that
    // breaks the kernel is named exactly.
    for (const nasty of nasties) {
      for (const channel of ['shell', 'control'] as const) {
        await sendNasty(attacker, ctx, nasty, channel, sent);
        if (!(await probeBoth(kernel, probes))) {
          alive = false;
          findings.check(false, `the kernel stopped answering right after "${nasty.name}" on ${channel}: ${probes.filter((p) => !p.ok).map((p) => `${p.channel}: ${p.error}`).join('; ')}`);
          break;
        }
      }
      if (!alive) break;
    }
    // Bulk: the rest of the 2,000, kinds in turn, channels alternating, probes every 100 messages.
    for (let i = 0; alive && sent.length < MESSAGES; i++) {
      const nasty = nasties[i % nasties.length] as Nasty;
      await sendNasty(attacker, ctx, nasty, sent.length % 2 === 0 ? 'shell' : 'control', sent);
      if (sent.length % PROBE_EVERY === 0 && !(await probeBoth(kernel, probes))) {
        alive = false;
        const window = sent.slice(-PROBE_EVERY).map((s) => s.nasty.name);
        findings.check(false, `a probe after message ${sent.length} went unanswered (${probes.filter((p) => !p.ok).map((p) => `${p.channel}: ${p.error}`).join('; ')}); `
          + `the last ${PROBE_EVERY} messages were of ${new Set(window).size} kinds`);
      }
    }
    if (alive) alive = await probeBoth(kernel, probes);
    const barrageMs = performance.now() - started;
    await sleep(alive ? 1000 : 0);

    const answered = probes.filter((p) => p.ok).length;
    findings.check(answered === probes.length, `${probes.length - answered} of ${probes.length} probes unanswered`);
    findings.check(isRunning(kernel.pid), 'the kernel process died');

    if (alive) {
      const ran = await evaluate(kernel,
        'JSON.stringify(hostileRuns.reduce((runs, name) => ({ ...runs, [name]: (runs[name] ?? 0) + 1 }), {} as Record<string, number>))');
      findings.check(ran === "'{}'", `malformed or unknown-type messages ran code (runs per kind): ${ran}`);
    }
    const mustBeSilent = sent.filter((s) => s.nasty.verdict !== 'accept');
    const answers = answersAbout(kernel, attacker, mustBeSilent);
    const answerCount = [...answers.values()].reduce((sum, kinds) => sum + [...kinds.values()].reduce((a, n) => a + n, 0), 0);
    findings.check(answers.size === 0, () => `the kernel answered or published ${answerCount} messages about ${answers.size} kinds of `
      + `refused or unknown-type messages:\n  ${[...answers].map(([name, kinds]) => `${name}: ${[...kinds].map(([k, n]) => `${k} ×${n}`).join(', ')}`).join('\n  ')}`);
    const silentIds = new Set(mustBeSilent.map((s) => s.msgId).filter((id): id is string => id !== undefined));
    const leaks = attacker.about(silentIds).filter((m) => m.frames.some((frame) => frame.includes(secret)));
    findings.check(leaks.length === 0, () => `${leaks.length} messages to the attacker hold the text of an earlier cell (its history): `
      + `${[...new Set(leaks.map((m) => `${m.channel}/${msgTypeOf(m.frames) ?? '?'}`))].join(', ')}`);
    const published = kernel.received.filter((m) => m.parent_header['msg_id'] !== secretCell.request.header.msg_id
      && JSON.stringify(m.content).includes(secret));
    findings.check(published.length === 0, `${published.length} messages to the user's client hold the secret of an earlier cell`);
    findings.check(kernel.problems.length === 0, () => `the user's client received ${kernel.problems.length} spec-invalid messages:\n  `
      + `${[...new Set(kernel.problems.map((p) => p.replace(/\s+/g, ' ').slice(0, 300)))].join('\n  ')}`);

    // Afterwards: interrupt and shutdown on control.
    let afterwards = 'not tried';
    if (alive) {
      const interruptStarted = performance.now();
      const running = kernel.startExecute('while (true) {}', {}, { timeoutMs: 30_000 });
      await running.iopubMessage('execute_input');
      await sleep(300);
      const interrupt = await kernel.request('control', 'interrupt_request', {}, { timeoutMs: 10_000 }).then(
        (exchange) => { okContent(exchange.reply, 'interrupt_reply'); return 'ok'; },
        (error: Error) => error.message.split('\n')[0] ?? '');
      findings.check(interrupt === 'ok', `interrupt_request on control after the barrage: ${interrupt}`);
      const stopped = await running.done().then((exchange) => executeReply(exchange), (error: Error) => error);
      findings.check(!(stopped instanceof Error) && stopped.status === 'error' && stopped.ename === 'Interrupted',
        () => `the interrupted cell: ${stopped instanceof Error ? stopped.message.split('\n')[0] : JSON.stringify(stopped)}`);
      const shutdown = await kernel.request('control', 'shutdown_request', { restart: false }, { timeoutMs: 10_000 }).then(
        (exchange) => { okContent(exchange.reply, 'shutdown_reply'); return 'ok'; },
        (error: Error) => error.message.split('\n')[0] ?? '');
      findings.check(shutdown === 'ok', `shutdown_request on control after the barrage: ${shutdown}`);
      const shutdownSent = performance.now();
      const exit = await kernel.waitForExit(5000);
      findings.check(typeof exit !== 'string' && exit.code === 0, `after shutdown_reply the kernel ${typeof exit === 'string' ? exit : `exited ${JSON.stringify(exit)}`}`);
      afterwards = `interrupt_request ${interrupt} (cell ${stopped instanceof Error ? 'not stopped' : stopped.status === 'error' ? stopped.ename : stopped.status}, `
        + `${(shutdownSent - interruptStarted).toFixed(0)} ms incl. the shutdown reply), shutdown_request ${shutdown}, exit ${JSON.stringify(exit)} `
        + `${(performance.now() - shutdownSent).toFixed(0)} ms later`;
    } else {
      findings.check(false, 'interrupt and shutdown on control were not tried: the kernel had stopped answering');
    }

    const byCategory = new Map<string, number>();
    for (const s of sent) byCategory.set(s.nasty.category, (byCategory.get(s.nasty.category) ?? 0) + 1);
    const megabytes = sent.reduce((sum, s) => sum + s.bytes, 0) / MiB;
    t.diagnostic(`sent ${sent.length} malformed messages (${sent.filter((s) => s.channel === 'shell').length} shell, `
      + `${sent.filter((s) => s.channel === 'control').length} control; ${nasties.length} kinds; ${megabytes.toFixed(0)} MiB) in ${(barrageMs / 1000).toFixed(1)} s`);
    t.diagnostic(`by category: ${[...byCategory].map(([c, n]) => `${c} ${n}`).join(', ')}`);
    t.diagnostic(`probes answered: ${answered}/${probes.length} (shell ${describeMs(probes.filter((p) => p.ok && p.channel === 'shell').map((p) => p.ms))}; `
      + `control ${describeMs(probes.filter((p) => p.ok && p.channel === 'control').map((p) => p.ms))})`);
    t.diagnostic(`afterwards on control: ${afterwards}`);
    t.diagnostic(`answers about refused/unknown messages: ${answerCount}; stderr lines about dropped/ignored messages: ${droppedLogLines(kernel)} (last 64 KiB of output)`);
    findings.assertNone(`kernel stderr (tail):\n${kernel.kernelOutput().slice(-3000)}`);
  });

  // Valid JSON, correctly signed, but no header is 5,000 levels deep: echoed back as parent_header
  // it breaks recursive JSON code (JSON.stringify, Python's json), so it must be dropped. The
  // kernel's liveness is checked through the attacker's raw link, which parses nothing.
  for (const [depth, channel] of [[5_000, 'shell'], [20_000, 'shell'], [100_000, 'control']] as const) {
    test(`a signed kernel_info_request whose header holds an array nested ${depth.toLocaleString('en-US')} deep (on ${channel}) `
      + 'is dropped and the kernel keeps answering', async (t) => {
      const kernel = await hostileKernel(t);
      const attacker = rawLink(t, kernel, { iopub: true });
      await attacker.subscribed(kernel);
      const { frames, msgId } = deeplyNestedHeader(nastyContext(kernel), 'kernel_info_request', depth);
      await attacker.send(channel, frames);
      const probes: ProbeResult[] = [];
      for (let round = 0; round < 2; round++) {
        for (const probeChannel of ['shell', 'control'] as const) probes.push(await rawProbe(attacker, kernel, probeChannel));
      }
      const findings = new Findings();
      for (const p of probes) findings.check(p.ok, `kernel_info on ${p.channel}: ${p.error ?? ''}`);
      const exit = kernel.kernel?.child.exitCode ?? kernel.kernel?.child.signalCode ?? null;
      findings.check(exit === null, `the kernel process ended (${String(exit)})`);
      const echoed = attacker.about(new Set([msgId as string]));
      findings.check(echoed.length === 0, () => `the kernel answered or published ${echoed.length} messages carrying the nested header back `
        + `(${echoed.map((m) => `${m.channel}, ${m.frames.reduce((sum, f) => sum + f.length, 0)} B`).join('; ')}); `
        + `the user's client: ${kernel.problems.join('; ') || 'no problems'}`);
      t.diagnostic(`depth ${depth} on ${channel}: probes answered ${probes.filter((p) => p.ok).length}/${probes.length}; `
        + `process ${exit === null ? 'running' : `ended: ${String(exit)}`}; messages echoing the header: ${echoed.length}`);
      findings.assertNone(`kernel stderr (tail):\n${kernel.kernelOutput().slice(-3000)}`);
    });
  }

  test('malformed messages on stdin: the stdin loop survives and prompt() still gets its answer', async (t) => {
    const kernel = await hostileKernel(t);
    const attacker = rawLink(t, kernel);
    const ctx = nastyContext(kernel);
    await evaluate(kernel, 'var hostileRuns: string[] = []');
    const sent: Sent[] = [];
    const kinds = [...refusedNasties(), ...ignoredNasties()].filter((n) => n.big !== true);
    for (let i = 0; i < 200; i++) await sendNasty(attacker, ctx, kinds[i % kinds.length] as Nasty, 'stdin', sent);
    const probes: ProbeResult[] = [];
    await probeBoth(kernel, probes);
    const running = kernel.startExecute("const answer = await prompt('Name? '); answer.length", { allow_stdin: true }, { timeoutMs: 15_000 });
    const request = await running.inputRequest();
    await kernel.answerInput(request, 'tsgpu');
    const exchange = await running.done();
    assert.equal(executeReply(exchange).status, 'ok', 'the prompt() cell failed after malformed stdin messages');
    assert.equal(await evaluate(kernel, 'answer'), "'tsgpu'");
    assert.equal(await evaluate(kernel, 'JSON.stringify(hostileRuns)'), "'[]'");
    assert.deepEqual(probes.filter((p) => !p.ok), []);
    t.diagnostic(`sent ${sent.length} malformed messages on stdin; prompt() answered afterwards`);
  });
});
