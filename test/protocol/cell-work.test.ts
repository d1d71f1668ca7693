// Each cell's asynchronous work belongs to it (issue 15): a forgotten `await` is named in its own
// cell's output and its move reported there; work an earlier cell left running is kept out of a
// later cell's report, with a line saying so; an interrupted cell's leftover work cannot print or
// display; `detach()` is the way to start work meant to outlive an interrupt.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { executeReply, iopubOf, resultText, streamText } from '../support/exchange';
import { describeOutcome, runOk, useDeviceKernel, valueOf } from '../support/devices';
import type { Exchange, KernelClient, Received } from '../support/kernel-client';
import { okContent } from '../support/message-schema';
import { readReport, reportsOf } from '../support/report';
import { sleep } from '../support/time';

function reportOf(exchange: Exchange): ReturnType<typeof readReport> {
  const reports = reportsOf(exchange);
  assert.equal(reports.length, 1, `one report expected:\n${describeOutcome(exchange)}`);
  return readReport(reports[0]!);
}

function opsOf(exchange: Exchange): Record<string, number> {
  const ops: Record<string, number> = {};
  for (const use of reportOf(exchange).meta.devices) if (use.ops > 0) ops[use.device] = use.ops;
  return ops;
}

/**
 * Starts `code`, interrupts it `ms` after `startedBy` arrives (a message type, or the first iopub
 * message it accepts), and checks it replied Interrupted.
 */
async function interruptAfter(kernel: KernelClient, code: string, ms: number,
  startedBy: string | { what: string; match: (message: Received) => boolean } = 'execute_input'): Promise<Exchange> {
  const running = kernel.startExecute(code, {}, { timeoutMs: 60_000 });
  await (typeof startedBy === 'string' ? running.iopubMessage(startedBy) : running.iopubWhere(startedBy.what, startedBy.match));
  await sleep(ms);
  okContent((await kernel.request('control', 'interrupt_request', {}, { timeoutMs: 10_000 })).reply, 'interrupt_reply');
  const done = await running.done();
  const reply = executeReply(done);
  assert.equal(reply.status === 'error' ? reply.ename : reply.status, 'Interrupted', describeOutcome(done));
  return done;
}

/** Starts an endless `code`, waits until `text` shows on stdout while it runs, then interrupts it. */
function shownBeforeInterrupt(kernel: KernelClient, code: string, text: string): Promise<Exchange> {
  return interruptAfter(kernel, code, 0, {
    what: `${JSON.stringify(text)} on stdout`,
    match: (message: Received) => message.header.msg_type === 'stream' && (message.content as { name?: string }).name === 'stdout'
      && String((message.content as { text?: string }).text).includes(text),
  });
}

describe("a cell's work stays the cell's", () => {
  const kernel = useDeviceKernel();

  test("`xs.to('cpu')` without await: the cell says so and names line 1, its own report has the move, the next cell's has none", async () => {
    await runOk(kernel(), "const xs = tf.randomNormal([4096]);\nawait xs.to('gpu:0');\nawait xs.sum().data();\n1");
    const forgot = await runOk(kernel(), "xs.to('cpu'); xs.device");
    assert.equal(resultText(forgot), "'gpu:0'", 'the move was awaited after all');
    const stderr = streamText(forgot, 'stderr');
    assert.ok(stderr.includes("`xs.to('cpu')` at line 1 was not awaited: it finished after the cell"), `stderr: ${JSON.stringify(stderr)}`);
    const report = reportOf(forgot).meta;
    assert.equal(report.cell, executeReply(forgot).execution_count);
    assert.deepEqual(report.transfers.map((move) => [move.direction, move.operation, move.bytes]), [['D2H', 'to', 4096 * 4]],
      `the cell's report:\n${JSON.stringify(report.transfers)}`);
    const next = await runOk(kernel(), 'xs.device');
    assert.equal(resultText(next), "'cpu'");
    assert.deepEqual(reportsOf(next), [], `the next cell moved nothing:\n${describeOutcome(next)}`);
    assert.equal(streamText(next, 'stderr'), '');
  });

  test('a loop of awaits that settle at once (a cpu readback each step) stops at its next op when interrupted', async () => {
    await runOk(kernel(), 'let spins = 0;\nconst spinInput = tf.ones([64, 64]); 0');
    // On cpu every readback settles without a turn of the event loop, so the interrupt message never gets in.
    await interruptAfter(kernel(), "console.log('spinning');\nfor (;;) { await spinInput.sum().data(); spins++; }", 500, 'stream');
    const first = Number(await valueOf(kernel(), 'spins'));
    await sleep(1500);
    assert.ok(first > 0, 'the loop never ran: the test proves nothing');
    assert.equal(Number(await valueOf(kernel(), 'spins')), first, 'the loop went on after the interrupt');
  });

  // The first line goes out at once; one printed just after it waits its turn (50 ms), and the flush
  // timer gets none in such a loop: the cell's ops send it. It waited for the interrupt before.
  test('a line printed just after another, before a loop of awaits that settle at once, shows while the loop runs', async () => {
    await runOk(kernel(), 'const printInput = tf.ones([64, 64]); 0');
    const done = await shownBeforeInterrupt(kernel(), "console.error('starting');\nconsole.log('spinning');\nfor (;;) { await printInput.sum().data(); }", 'spinning');
    assert.equal(streamText(done, 'stdout'), 'spinning\n');
  });

  // No op, no await: only the loop's own check at each iteration hears the worker ask for the line kept back.
  test('lines printed just before a synchronous loop show while it runs', async () => {
    const done = await shownBeforeInterrupt(kernel(), "console.log('before');\nconsole.log('the loop');\nwhile (true) { }", 'the loop');
    assert.equal(streamText(done, 'stdout'), 'before\nthe loop\n');
  });

  test('an awaited move says nothing about awaiting', async () => {
    const moved = await runOk(kernel(), "await xs.to('gpu:0'); xs.device");
    assert.equal(resultText(moved), "'gpu:0'");
    assert.equal(streamText(moved, 'stderr'), '');
  });

  // A move that lands within the cell is no unawaited call at the cell's end: the stale `.device` is where it shows.
  test("`x.to('gpu:0'); x.device` on a ready GPU: the cell says the move was under way when .device was read, and names that line", async () => {
    const stale = await runOk(kernel(), "%device cpu\nconst notYet = tf.tensor([1, 2, 3]);\nnotYet.to('gpu:0');\nnotYet.device");
    assert.equal(resultText(stale), "'cpu'", 'the move landed before .device was read: the test proves nothing');
    // Named as the line names it: `x.to('gpu:0')` read as another tensor's move to a user whose tensor was `notYet`.
    assert.match(streamText(stale, 'stderr'), /^Warning \(cell \d+, line 4\): `\.device` was read while `notYet\.to\('gpu:0'\)` was still under way, so it says 'cpu'.*`await notYet\.to\('gpu:0'\)`/m);
    const landed = await runOk(kernel(), "notYet.to('gpu:0');\nnotYet.device");
    assert.equal(resultText(landed), "'gpu:0'");
    assert.equal(streamText(landed, 'stderr'), '', 'a move to where the tensor is already misleads nobody');
  });

  test("ops of an interval an earlier cell left running are not in a later cell's report; a line names that cell", async () => {
    const started = await runOk(kernel(), 'const ha = tf.ones([8]);\nconst ticker = setInterval(() => tf.add(ha, ha).dispose(), 2);\n1');
    const count = executeReply(started).execution_count;
    const later = await runOk(kernel(), 'await new Promise((r) => setTimeout(r, 300));\ntf.add(ha, 1).dispose();\n2');
    assert.deepEqual(opsOf(later), { cpu: 1 }, `the later cell ran one op:\n${describeOutcome(later)}`);
    const stderr = streamText(later, 'stderr');
    assert.match(stderr, new RegExp(`work still running from cell ${count} did \\d+ ops on cpu while this cell ran; it is not counted in this report`),
      `stderr: ${JSON.stringify(stderr)}`);
    await runOk(kernel(), 'clearInterval(ticker)');
  });

  // Left out of the later cell's report, such a move was left out of the session's moves too:
  // %transfers all listed none of an interrupted cell's 128 MiB upload that went on (found in review).
  test("a move an earlier cell's timer made during a later cell: not in that cell's report, but in %transfers all under its own cell", async () => {
    const started = await runOk(kernel(), "const strayMoved = tf.ones([2048]).add(0);\nsetTimeout(() => { void strayMoved.to('gpu:0'); }, 300);\n1");
    const owner = executeReply(started).execution_count;
    const later = await runOk(kernel(), "await new Promise((r) => setTimeout(r, 1500));\nstrayMoved.device");
    assert.equal(resultText(later), "'gpu:0'", 'the timer\'s move did not happen: the test proves nothing');
    const stderr = streamText(later, 'stderr');
    assert.match(stderr, new RegExp(`work still running from cell ${owner} did 1 move while this cell ran`), `stderr: ${JSON.stringify(stderr)}`);
    for (const report of reportsOf(later)) assert.deepEqual(readReport(report).meta.transfers, [], 'the later cell moved nothing itself');
    // The later cell touched no tensor: the last cell is the timer's (its add), and %transfers shows its move too.
    for (const scope of ['all', 'last']) {
      const listing = streamText(await runOk(kernel(), `%transfers ${scope === 'all' ? 'all' : ''}`), 'stdout');
      const row = listing.split('\n').find((line) => line.includes('cpu → gpu:0') && line.includes('8192 B'));
      assert.ok(row !== undefined, `%transfers ${scope} lists no 8 KiB move to gpu:0:\n${listing}`);
      assert.match(row, new RegExp(`cell ${owner}\\b`), `the move is listed under cell ${owner}:\n${listing}`);
    }
  });

  test('output from an interrupted cell\'s leftover work is refused: nothing it prints or displays reaches a later cell', async () => {
    await runOk(kernel(), 'let release: () => void = () => undefined;\nconst gate = new Promise<void>((r) => { release = r; });\n1');
    await interruptAfter(kernel(), "(async () => { await gate; console.log('late print'); display.text('late display'); })();\n"
      + "display.text('running');\nawait new Promise(() => {})", 100, 'display_data');
    const later = await runOk(kernel(), "release();\nawait new Promise((r) => setTimeout(r, 200));\n'after'");
    assert.equal(resultText(later), "'after'");
    assert.ok(!JSON.stringify(later.iopub.map((m) => m.content)).includes('late'), `the leftover work's output arrived:\n${describeOutcome(later)}`);
    assert.deepEqual(iopubOf(later, 'display_data'), []);
  });

  test('an interval started with detach() keeps running after its cell is interrupted; the same one started plainly stops', async () => {
    await runOk(kernel(), 'const ticks = { plain: 0, detached: 0 };\n1');
    await interruptAfter(kernel(), 'setInterval(() => ticks.plain++, 5);\ndetach(() => setInterval(() => ticks.detached++, 5));\n'
      + "display.text('running');\nawait new Promise(() => {})", 200, 'display_data');
    const first = JSON.parse((await valueOf(kernel(), 'JSON.stringify(ticks)'))!.slice(1, -1)) as { plain: number; detached: number };
    await sleep(300);
    const second = JSON.parse((await valueOf(kernel(), 'JSON.stringify(ticks)'))!.slice(1, -1)) as { plain: number; detached: number };
    assert.ok(first.plain > 0 && first.detached > 0, `both intervals ran before the interrupt: ${JSON.stringify(first)}`);
    assert.equal(second.plain, first.plain, 'the plain interval ran on after the interrupt');
    assert.ok(second.detached > first.detached, `the detached interval stopped: ${JSON.stringify([first, second])}`);
  });

  test("tensor work started with detach() is in no cell's report, and no line blames a cell for it", async () => {
    const cell = "await new Promise((r) => setTimeout(r, 500));\ntf.ones([2]).sum()";
    const alone = opsOf(await runOk(kernel(), cell));
    await runOk(kernel(), "const detachedInput = tf.ones([4]);\nconst detachedTimer = detach(() => setInterval(() => { detachedInput.add(1); }, 20));\n1");
    const later = await runOk(kernel(), cell);
    await runOk(kernel(), 'clearInterval(detachedTimer); 0');
    assert.deepEqual(opsOf(later), alone, `the detached interval's ops were counted:\n${describeOutcome(later)}`);
    assert.doesNotMatch(streamText(later, 'stderr'), /work still running/);
  });

  test('a progress() bar whose cell is interrupted ends marked "interrupted" and is not drawn again', async () => {
    const interrupted = await interruptAfter(kernel(), 'for (const step of progress(100000)) { await new Promise((r) => setTimeout(r, 2)); }', 400, 'display_data');
    const bars = interrupted.iopub.filter((message) => ['display_data', 'update_display_data'].includes(message.header.msg_type))
      .map((message) => String((message.content['data'] as Record<string, unknown>)['text/plain']));
    assert.ok(bars.length >= 2, `the bar was drawn and updated: ${JSON.stringify(bars)}`);
    assert.match(bars.at(-1) ?? '', /step \d+\/100000 .* · interrupted$/, JSON.stringify(bars.slice(-3)));
    const later = await runOk(kernel(), 'await new Promise((r) => setTimeout(r, 300));\n1');
    assert.deepEqual(later.iopub.filter((message) => message.header.msg_type === 'update_display_data'), [], 'the bar was drawn after its cell ended');
  });

  test('SIGINT that stops a synchronous loop also clears the intervals its cell started before the loop', async () => {
    await runOk(kernel(), 'const beforeLoop = { ticks: 0 };\n1');
    const running = kernel().startExecute("setInterval(() => beforeLoop.ticks++, 5);\ndisplay.text('running');\nwhile (true) {}", {}, { timeoutMs: 60_000 });
    await running.iopubMessage('display_data');
    await sleep(200);
    kernel().signal('SIGINT');
    const reply = executeReply(await running.done());
    assert.equal(reply.status === 'error' ? reply.ename : reply.status, 'Interrupted');
    const first = await valueOf(kernel(), 'beforeLoop.ticks');
    await sleep(300);
    assert.equal(await valueOf(kernel(), 'beforeLoop.ticks'), first, 'the interval ran on after the interrupt');
  });
});
