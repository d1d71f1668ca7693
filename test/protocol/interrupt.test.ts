// Stopping a runaway cell without losing the session.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertBusyThenIdle, evaluate, executeReply } from '../support/exchange';
import { useKernel } from '../support/fixtures';
import { KernelClient } from '../support/kernel-client';
import { okContent } from '../support/message-schema';
import { sleep } from '../support/time';

type Method = { name: string; interrupt(kernel: KernelClient): Promise<void> };

async function interruptRequest(kernel: KernelClient, channel: 'shell' | 'control'): Promise<void> {
  const exchange = await kernel.request(channel, 'interrupt_request');
  assertBusyThenIdle(exchange);
  okContent(exchange.reply, 'interrupt_reply');
}

const methods: Method[] = [
  { name: 'interrupt_request on control', interrupt: (k) => interruptRequest(k, 'control') },
  { name: 'interrupt_request on shell', interrupt: (k) => interruptRequest(k, 'shell') },
  { name: 'SIGINT to the kernel process', interrupt: async (k) => k.signal('SIGINT') },
];

const cells = [
  { name: '`while (true) {}`', code: 'while (true) {}' },
  { name: '`await new Promise(() => {})`', code: 'await new Promise(() => {})' },
];

/**
 * Loops after the cell's first await run as promise jobs, outside the run SIGINT can break, and
 * read no interrupt line of their own (no tensor op, no output): neither could be stopped (found
 * in review; a restart was the only way out). The loop checks the emit inserts stop them at an
 * interrupt_request; a bare SIGINT waits for the event loop, which they never give back. Nor
 * could an async recursion, which has no loop: async functions' bodies start with the same check.
 */
const loopsAfterAwait = [
  { name: '`await null;` then `while (true) {}`', code: 'await null;\nlet spins = 0; while (true) spins++;' },
  { name: 'a readback then a plain loop over its values', code: 'const values = await Promise.resolve([1, 2, 3]);\nlet total = 0; while (true) { for (const v of values) total += v; }' },
  { name: 'a loop in a function an earlier cell defined, called after an await', code: 'await new Promise((resolve) => setTimeout(resolve, 10));\nspinForever();' },
  // No loop at all: each call's body starts with the check (cell-rewrite.ts loopChecks).
  { name: 'an async recursion that never gives the event loop back', code: 'async function spinAsync(): Promise<void> { await null; return spinAsync(); }\nawait spinAsync();' },
  { name: 'an async method calling itself', code: "class Spinner { async go(): Promise<void> { 'use strict'; await null; return this.go(); } }\nawait new Spinner().go();" },
];

describe('interrupting a running cell', () => {
  const kernel = useKernel();
  let n = 0;

  /** Starts `code` after setting `setup`, interrupts it `settleMs` after its execute_input, and checks it stopped and kept earlier variables. */
  const interruptsAndKeeps = (method: Method, cell: { name: string; code: string }, setup: string, settleMs: number): void => {
    test(`${method.name} stops ${cell.name}, keeps earlier variables, and the next cell runs`, async (t) => {
      const name = `keptAcrossInterrupt${++n}`;
      await evaluate(kernel(), `var ${name} = 41;${setup}`);
      const running = kernel().startExecute(cell.code);
      await running.iopubMessage('execute_input');
      await sleep(settleMs);
      assert.equal(running.reply, undefined, 'the cell finished before it was interrupted');

      const started = performance.now();
      await method.interrupt(kernel());
      const reply = executeReply(await running.done());
      t.diagnostic(`cell replied ${(performance.now() - started).toFixed(0)} ms after the interrupt was sent`);
      assert.equal(reply.status === 'error' ? reply.ename : reply.status, 'Interrupted');

      assert.equal(await evaluate(kernel(), `${name} + 1`), '42');
    });
  };

  for (const method of methods) {
    for (const cell of cells) interruptsAndKeeps(method, cell, '', 200);
  }
  // interrupt_request only: a bare SIGINT cannot reach a loop that never gives the event loop back.
  for (const method of methods.slice(0, 2)) {
    for (const cell of loopsAfterAwait) interruptsAndKeeps(method, cell, ' function spinForever() { let i = 0; do { i++; } while (i >= 0 || true); }', 300);
  }

  test('interrupt_request stops an async recursion the cell started and did not await (its last line returned; the promise jobs it fills kept the cell from closing), and keeps earlier variables', async () => {
    await evaluate(kernel(), 'var keptBeforeSpin = 41; async function spinUnawaited(): Promise<void> { await null; return spinUnawaited(); } 0');
    const running = kernel().startExecute('spinUnawaited();\nconst afterSpin = 1;');
    await running.iopubMessage('execute_input');
    await sleep(300);
    assert.equal(running.reply, undefined, 'the cell closed with the recursion still running');
    await interruptRequest(kernel(), 'control');
    // The cell's own code had ended: whatever its reply says, it comes, and the kernel keeps its state.
    await running.done();
    assert.equal(await evaluate(kernel(), 'keptBeforeSpin + 1'), '42');
  });

  test('interrupt_request while no cell runs stops the work an earlier cell left running (an async recursion through setImmediate), and keeps its variables', async () => {
    await evaluate(kernel(), 'var keptBesideLeftover = 41; var leftoverCalls = 0; async function leftover(): Promise<void> { leftoverCalls++; await new Promise((resolve) => setImmediate(resolve)); return leftover(); } leftover(); 0');
    assert.equal(await evaluate(kernel(), 'await new Promise((resolve) => setTimeout(resolve, 200)); leftoverCalls > 0'), 'true');
    await interruptRequest(kernel(), 'control');
    // The test's own count: no call of it after the interrupt.
    assert.equal(await evaluate(kernel(), 'var leftoverSeen = leftoverCalls; await new Promise((resolve) => setTimeout(resolve, 300)); [leftoverCalls - leftoverSeen, keptBesideLeftover + 1]'), '[ 0, 42 ]');
  });

  test('interrupt_request while no cell runs answers ok and the next cell runs', async () => {
    await interruptRequest(kernel(), 'control');
    assert.equal(await evaluate(kernel(), '6 * 7'), '42');
  });

  test('SIGINT while no cell runs is ignored: the kernel lives and the next cell runs', async () => {
    kernel().signal('SIGINT');
    await sleep(100);
    assert.equal(await evaluate(kernel(), '6 * 7'), '42');
  });

  test('interrupt_request the moment a cell starts stops that cell, not the one queued behind it', async () => {
    const running = kernel().startExecute('while (true) {}', { stop_on_error: false });
    await running.iopubMessage('execute_input');
    const interrupt = kernel().request('control', 'interrupt_request');
    const next = kernel().execute('6 * 7');
    const first = executeReply(await running.done());
    assert.equal(first.status === 'error' ? first.ename : first.status, 'Interrupted');
    okContent((await interrupt).reply, 'interrupt_reply');
    assert.equal(executeReply(await next).status, 'ok', 'the cell queued behind the interrupted one was interrupted too');
  });
});
