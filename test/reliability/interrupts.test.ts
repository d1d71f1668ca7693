// Interrupting cells again and again, by interrupt_request on control and by SIGINT (tslab: 0 of 20
// by message). 300 ms into `while (true) {}` (20 + 20): every cell stops with Interrupted, a
// variable defined before survives, and the next cell runs. The moment a cell's execute_input
// arrives, with the next cell queued behind it: the interrupt stops that cell, never the next one
// (before, the SIGINT sent with an interrupt_request stopped the next cell 9 times in 30).
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { evaluate, executeReply } from '../support/exchange';
import { describeMs, Findings, hostileKernel } from '../support/hostile';
import type { KernelClient, Received } from '../support/kernel-client';
import { contentOf, okContent } from '../support/message-schema';
import { sleep, TIMED_OUT, within } from '../support/time';

type Method = 'interrupt_request' | 'SIGINT';

/** How long a cell may keep running after its interrupt before the interrupt counts as lost (they take ~3 ms). */
const STOP_WITHIN_MS = 2000;

async function sendInterrupt(kernel: KernelClient, method: Method): Promise<void> {
  if (method === 'SIGINT') {
    kernel.signal('SIGINT');
    return;
  }
  const exchange = await kernel.request('control', 'interrupt_request', {}, { timeoutMs: 10_000 });
  okContent(exchange.reply, 'interrupt_reply');
}

/**
 * Starts `while (true) {}`, waits `delayMs` after its execute_input, interrupts it; the ms from the
 * interrupt to the cell's reply, or what went wrong. A lost interrupt is followed by a second one,
 * so later rounds can still run (`recovered`).
 */
async function interruptOnce(kernel: KernelClient, method: Method, delayMs: number): Promise<{ ms: number } | { error: string; recovered: boolean }> {
  const running = kernel.startExecute('while (true) {}', {}, { timeoutMs: 120_000 });
  await running.iopubMessage('execute_input');
  if (delayMs > 0) await sleep(delayMs);
  if (running.reply !== undefined) return { error: `the loop ended by itself: ${JSON.stringify(running.reply.content)}`, recovered: true };
  const started = performance.now();
  await sendInterrupt(kernel, method);
  const outcome = (): Promise<string | number> => running.done().then(
    (exchange) => {
      const reply = executeReply(exchange);
      return reply.status === 'error' && reply.ename === 'Interrupted'
        ? performance.now() - started : `the cell replied ${JSON.stringify(reply).slice(0, 300)}`;
    },
    (error: Error) => error.message.split('\n')[0] ?? '');
  const first = await Promise.race([outcome(), sleep(STOP_WITHIN_MS).then(() => 'timeout' as const)]);
  if (typeof first === 'number') return { ms: first };
  if (first !== 'timeout') return { error: first, recovered: true };
  await sendInterrupt(kernel, method);
  const second = await Promise.race([outcome(), sleep(STOP_WITHIN_MS).then(() => 'timeout' as const)]);
  return {
    error: `the cell was still running ${STOP_WITHIN_MS} ms after the interrupt`
      + (typeof second === 'number' ? ' (a second interrupt stopped it)' : '; a second interrupt did not stop it either'),
    recovered: typeof second === 'number',
  };
}

async function interruptMany(t: TestContext, each: number, delayMs: number, methods: readonly Method[] = ['interrupt_request', 'SIGINT']): Promise<void> {
  const kernel = await hostileKernel(t);
  await evaluate(kernel, 'var kept = 41');
  const findings = new Findings();
  const latencies: Record<Method, number[]> = { interrupt_request: [], SIGINT: [] };
  const lost: Record<Method, number> = { interrupt_request: 0, SIGINT: 0 };
  let stateKept = 0;
  let rounds = 0;
  outer: for (const method of methods) {
    for (let i = 0; i < each; i++) {
      rounds++;
      const outcome = await interruptOnce(kernel, method, delayMs);
      if ('error' in outcome) {
        lost[method]++;
        findings.check(false, `${method} #${i + 1}: ${outcome.error}`);
        if (!outcome.recovered) break outer; // a cell still running blocks every later one
      } else {
        latencies[method].push(outcome.ms);
      }
      const next = await kernel.execute('kept + 1', {}, { timeoutMs: 15_000 }).then(
        (exchange) => (executeReply(exchange).status === 'ok' ? exchange : undefined), () => undefined);
      const value = next?.iopub.find((m) => m.header.msg_type === 'execute_result')?.content['data'];
      if (findings.check((value as Record<string, unknown> | undefined)?.['text/plain'] === '42',
        `after ${method} #${i + 1} the next cell \`kept + 1\` gave ${JSON.stringify(value)}`)) stateKept++;
    }
  }
  const stopped = latencies.interrupt_request.length + latencies.SIGINT.length;
  t.diagnostic(`interrupts ${delayMs === 0 ? 'the moment execute_input arrived' : `${delayMs} ms after execute_input`}: `
    + `stopped ${stopped}/${methods.length * each} (${methods.map((method) => `${method} ${latencies[method].length}/${each}`).join(', ')}); `
    + `state kept and the next cell ran after ${stateKept}/${rounds}`);
  t.diagnostic(`interrupt_request (control) to the cell's reply: ${describeMs(latencies.interrupt_request)}; lost ${lost.interrupt_request}`);
  t.diagnostic(`SIGINT to the cell's reply: ${describeMs(latencies.SIGINT)}; lost ${lost.SIGINT}`);
  findings.assertNone(`kernel stderr (tail):\n${kernel.kernelOutput().slice(-3000)}`);
  assert.equal(stopped, methods.length * each);
}

/** A cell interrupted the moment its execute_input arrives, with the next cell already queued behind it. */
interface FirstCell {
  name: string;
  code(round: number): string;
  /** A cell that never ends by itself must be stopped; one that ends within ms may finish first. */
  mustStop: boolean;
}

const LOOP: FirstCell = { name: '`while (true) {}`', code: () => 'while (true) {}', mustStop: true };
// Ends by itself 0–4 ms in: the interrupt lands before, during or just after its run.
const BRIEF: FirstCell = { name: 'a cell that ends by itself 0–4 ms in', code: (round) => `{ const end = Date.now() + ${round % 5}; while (Date.now() < end) {} }`, mustStop: false };

type Outcome = 'ok' | 'Interrupted' | string;

function outcomeOf(exchange: { reply: Received } | undefined): Outcome {
  if (exchange === undefined) return 'no reply';
  const reply = contentOf(exchange.reply, 'execute_reply');
  if (reply.status === 'ok') return 'ok';
  return reply.status === 'error' ? reply.ename : reply.status;
}

/**
 * Interrupts `first` the moment its execute_input arrives and sends `kept + 1` right behind it (the
 * first with stop_on_error false, so the next is not aborted): the interrupt is meant for the first
 * cell and must never stop the next one. An interrupt the first cell outlives by STOP_WITHIN_MS is
 * lost; a second one then stops it, and at most `lostAllowed` may be lost.
 */
async function interruptThenNext(t: TestContext, method: Method, first: FirstCell, rounds: number, lostAllowed: number): Promise<void> {
  const kernel = await hostileKernel(t);
  // Sent back to back, the interrupt and the next execute fall in one millisecond, where a client
  // that stamps milliseconds leaves their order unknown to the kernel (control and shell are read
  // apart); jupyter_client stamps microseconds, and then the kernel knows which came first.
  kernel.dateDigits = 6;
  await evaluate(kernel, 'var kept = 41');
  const findings = new Findings();
  let stopped = 0;
  let lost = 0;
  let nextRan = 0;
  const firstOutcomes = new Map<Outcome, number>();
  for (let i = 0; i < rounds; i++) {
    const running = kernel.startExecute(first.code(i), { stop_on_error: false }, { timeoutMs: 120_000 });
    await running.iopubMessage('execute_input');
    const interrupted = method === 'SIGINT' ? (kernel.signal('SIGINT'), undefined) : kernel.send('control', 'interrupt_request', {}, { timeoutMs: 10_000 });
    const next = kernel.startExecute('kept + 1', {}, { timeoutMs: 120_000 });
    let firstDone = await within(running.done(), STOP_WITHIN_MS);
    if (firstDone === TIMED_OUT) {
      lost++;
      await sendInterrupt(kernel, method);
      firstDone = await within(running.done(), STOP_WITHIN_MS);
      if (firstDone === TIMED_OUT) {
        findings.check(false, `${method} #${i + 1}: ${first.name} still ran after a second interrupt`);
        break; // a cell still running blocks every later one
      }
    }
    const outcome = outcomeOf(firstDone);
    firstOutcomes.set(outcome, (firstOutcomes.get(outcome) ?? 0) + 1);
    if (outcome === 'Interrupted') stopped++;
    findings.check(outcome === 'Interrupted' || (!first.mustStop && outcome === 'ok'), `${method} #${i + 1}: ${first.name} replied ${outcome}`);
    if (interrupted !== undefined) okContent((await interrupted.done()).reply, 'interrupt_reply');
    const nextDone = await next.done().catch(() => undefined);
    const value = nextDone?.iopub.find((m) => m.header.msg_type === 'execute_result')?.content['data'];
    if (findings.check(outcomeOf(nextDone) === 'ok' && (value as Record<string, unknown> | undefined)?.['text/plain'] === '42',
      () => `${method} #${i + 1}: the next cell \`kept + 1\`, sent right behind ${first.name}, replied ${outcomeOf(nextDone)} (${JSON.stringify(value)})`)) nextRan++;
  }
  t.diagnostic(`${method} sent the moment execute_input arrived, ${first.name}: stopped ${stopped}/${rounds}`
    + ` (${[...firstOutcomes].map(([what, n]) => `${what} ${n}`).join(', ')}; first interrupt lost ${lost}); the next cell ran untouched ${nextRan}/${rounds}`
    + `; interrupts read after the next cell had started, set aside by their dates: ${kernel.kernelOutput().split('sent before the running cell was requested').length - 1}`);
  findings.check(lost <= lostAllowed, `${lost} of ${rounds} interrupts were lost (at most ${lostAllowed} may be)`);
  findings.assertNone(`kernel stderr (tail):\n${kernel.kernelOutput().slice(-3000)}`);
}

describe('interrupting runaway cells again and again', () => {
  test('20 interrupt_request and 20 SIGINT interrupts of `while (true) {}`, 300 ms into the loop: all stopped, state kept, '
    + 'the next cell runs', (t) => interruptMany(t, 20, 300));
});

describe('an interrupt stops the cell it was sent to, never the next one', () => {
  const ROUNDS = 30;
  for (const first of [LOOP, BRIEF]) {
    test(`${ROUNDS} × interrupt_request the moment ${first.name} shows its execute_input, \`kept + 1\` queued behind it: `
      + `${first.mustStop ? 'every one stopped' : 'each stopped or ended'}, the next cell untouched`,
    (t) => interruptThenNext(t, 'interrupt_request', first, ROUNDS, 0));
  }
  // A bare SIGINT that lands between the event loop's last look at signals before a cell's run and
  // Node's watchdog installing its handler is taken by Node's listener and lost (the run never gives
  // the listener a turn). That window holds the watchdog thread's creation, which Node repeats for
  // every run: 0.2 ms idle, 3–6 ms on two loaded cores (measured with timestamps on both sides). Sent
  // at execute_input, 0–5 of 30 were lost at CI's load and 4–13 of 30 at load 10–12. A second SIGINT
  // stops the cell. The kernel's own signals (interrupt_request) never fall there (interrupt-line.ts).
  test(`${ROUNDS} × SIGINT the moment ${LOOP.name} shows its execute_input, \`kept + 1\` queued behind it: every one stopped `
    + '(at most half needing a second SIGINT), the next cell untouched', (t) => interruptThenNext(t, 'SIGINT', LOOP, ROUNDS, ROUNDS / 2));
  // Not tested: a bare SIGINT as a cell ends by itself. Node keeps one that lands in a run's last
  // moments and stops the next run with it (seen up to 5 in 100 on two busy cores); the kernel's
  // own SIGINTs are only sent where that cannot happen (interrupt-line.ts).
});
