// Runtime errors in TypeScript cells: the traceback points at the cell's own TypeScript lines
// (type-only lines vanish from the JavaScript that runs), never at the kernel's files.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cellError, executeReply, resultText, streamText } from '../support/exchange';
import { useKernel } from '../support/fixtures';
import { KernelClient } from '../support/kernel-client';
import type { ContentOf } from '../support/message-schema';
import { assertQuoted, cellFrames, Frame, frameLines } from '../support/typescript';

/** Runs a failing cell; its error and execution count. */
async function runFailing(kernel: KernelClient, code: string): Promise<{ error: ContentOf<'error'>; count: number }> {
  const exchange = await kernel.execute(code);
  const error = cellError(exchange);
  const count = executeReply(exchange).execution_count;
  assert.ok(count !== undefined, 'execute_reply without execution_count');
  return { error, count };
}

/** Index of the "L | source" line that follows the frames. */
function quotedAt(traceback: readonly string[], line: number): number {
  const at = traceback.findIndex((text) => text.startsWith(`${line} | `));
  assert.ok(at > 0, `no "${line} | ..." line in ${JSON.stringify(traceback)}`);
  return at - 1;
}

const show = (frames: Frame[]): string => frames.map((f) => f.text).join('\n');

describe('TypeScript runtime errors', () => {
  const kernel = useKernel();

  test('a throw on line 3 after type-only lines is reported at <cell N>:3, with that line quoted and a caret',
    async () => {
      const code = [
        'type Meters = number;',
        'interface Unused { a: Meters }',
        "throw new Error('line three')",
      ].join('\n');
      const { error, count } = await runFailing(kernel(), code);
      assert.equal(error.ename, 'Error');
      assert.equal(error.evalue, 'line three');
      assert.equal(error.traceback[0], 'Error: line three');
      const [top] = cellFrames(error.traceback);
      assert.ok(top !== undefined, `no <cell N> frame in ${JSON.stringify(error.traceback)}`);
      assert.equal(top.cell, count, 'N in <cell N> is the execution count');
      assert.deepEqual([top.line, top.column], [3, 7], top.text);
      assert.equal(error.traceback.at(-2), "3 | throw new Error('line three')");
      assertQuoted(error.traceback, error.traceback.length - 3, { line: 3, column: 7, source: "throw new Error('line three')" });
    });

  test('frames inside functions name the function and the TypeScript line and column of each call', async () => {
    const code = [
      'function outer(): number {',
      '  return inner()',
      '}',
      'function inner(): number {',
      "  type Reason = 'why'",
      "  throw new RangeError('in inner')",
      '}',
      'outer()',
    ].join('\n');
    const { error, count } = await runFailing(kernel(), code);
    assert.equal(error.ename, 'RangeError');
    assert.equal(error.evalue, 'in inner');
    const frames = cellFrames(error.traceback);
    assert.deepEqual(frames.slice(0, 3).map((f) => [f.fn, f.cell, f.line, f.column]), [
      ['inner', count, 6, 9],
      ['outer', count, 2, 10],
      [undefined, count, 8, 1],
    ], show(frames));
    assert.ok(frameLines(error.traceback).includes(`    at inner (<cell ${count}>:6:9)`), show(frames));
    assertQuoted(error.traceback, quotedAt(error.traceback, 6), { line: 6, column: 9, source: "  throw new RangeError('in inner')" });
  });

  test('every frame of a cell points inside the cell\'s own lines', async () => {
    const code = [
      'function thrower(): never {',
      '  type Q = number',
      "  throw new TypeError('deep')",
      '}',
      'thrower()',
    ].join('\n');
    const { error } = await runFailing(kernel(), code);
    const frames = cellFrames(error.traceback);
    assert.ok(frames.length >= 2, show(frames));
    const lines = code.split('\n');
    for (const frame of frames) {
      assert.ok(frame.line >= 1 && frame.line <= lines.length,
        `frame outside the ${lines.length}-line cell: ${frame.text}\n${error.traceback.join('\n')}`);
      assert.ok(frame.column >= 1 && frame.column <= (lines[frame.line - 1]?.length ?? 0) + 1,
        `frame column outside line ${frame.line}: ${frame.text}\n${error.traceback.join('\n')}`);
    }
  });

  test("a function from an earlier cell that throws in a later cell is reported at its own cell's line", async () => {
    const first = await runFailing(kernel(), "function boomLater(): number {\n  throw new Error('earlier')\n}\nboomLater()");
    const { error } = await runFailing(kernel(), '\nboomLater()');
    assert.ok(frameLines(error.traceback).includes(`    at boomLater (<cell ${first.count}>:2:9)`), error.traceback.join('\n'));
  });

  test('a recursion\'s frames are shown once, with how many more times they repeated, and every call is accounted for', async () => {
    const depth = 30;
    const { error, count } = await runFailing(kernel(), `function down(n: number): number {\n  if (n === 0) throw new Error('bottom');\n  return down(n - 1) + 1;\n}\ndown(${depth})`);
    const shown = error.traceback.join('\n');
    // The throw, the recursive call folded, then the cell's own call: depth calls of line 3 in all.
    assert.deepEqual(frameLines(error.traceback), [`    at down (<cell ${count}>:2:22)`, `    at down (<cell ${count}>:3:10)`, `    at <cell ${count}>:5:1`], shown);
    assert.ok(error.traceback.includes(`    [the frame above repeated ${depth - 1} more times]`), shown);
    // Two functions calling each other fold as a pair.
    const pair = await runFailing(kernel(), "function even(n: number): boolean { if (n === 0) throw new Error('even'); return odd(n - 1); }\nfunction odd(n: number): boolean { return even(n - 1); }\neven(20)");
    assert.ok(pair.error.traceback.includes('    [the 2 frames above repeated 9 more times]'), pair.error.traceback.join('\n'));
    // A stack overflow: a screen of the same frame before; now a few lines.
    const overflow = await runFailing(kernel(), 'function forever(n: number): number { return forever(n + 1) + 1; }\nforever(0)');
    assert.equal(overflow.error.ename, 'RangeError');
    assert.ok(overflow.error.traceback.length <= 8, overflow.error.traceback.join('\n'));
    // V8 kept only the innermost frames: how many more there were is not known, and the traceback says so.
    assert.match(overflow.error.traceback.join('\n'), /at forever \(<cell \d+>:1:\d+\)\n {4}\[the frame above repeated at least \d+ more times\]/);
    assert.ok(overflow.error.traceback.some((line) => /^ {4}\[the trace stops at \d+ frames/.test(line)), overflow.error.traceback.join('\n'));
    // A recursion deeper than the frames kept, which ends: 499 calls of line 1, of which the trace holds fewer.
    const deep = await runFailing(kernel(), "function countdown(n: number): number { if (n === 0) throw new Error('zero'); return countdown(n - 1); }\ncountdown(500)");
    const repeated = deep.error.traceback.map((line) => /^ {4}\[the frame above repeated (at least )?(\d+) more times\]$/.exec(line)).find((match) => match !== null);
    assert.ok(repeated !== undefined && repeated[1] === 'at least ' && Number(repeated[2]) < 499, deep.error.traceback.join('\n'));
    // 98 calls fill the frames kept, but with the cell's own frame among them nothing of the user's was cut.
    const full = await runFailing(kernel(), "function f98(n: number): number { if (n === 0) throw new Error('zero'); return f98(n - 1) + 1; }\nf98(98)");
    assert.ok(full.error.traceback.includes('    [the frame above repeated 97 more times]'), full.error.traceback.join('\n'));
    assert.ok(!full.error.traceback.some((line) => /the trace stops/.test(line)), full.error.traceback.join('\n'));
    // A top-level arrow function's frame is named as the cell wrote it, not as the kernel keeps it.
    const arrow = await runFailing(kernel(), "const failing = () => { throw new Error('arrow'); };\nfailing()");
    assert.ok(frameLines(arrow.error.traceback).some((line) => /^ {4}at failing \(<cell \d+>:1:31\)$/.test(line)), arrow.error.traceback.join('\n'));
  });

  test("the traceback shows no frames from the kernel's own files", async () => {
    const { error } = await runFailing(kernel(), "[1, 2].map((n) => { if (n === 2) throw new Error('in callback'); return n })");
    const kernelFrames = frameLines(error.traceback)
      .filter((text) => /dist[\\/]kernel|[\\/]kernel[\\/]|node:internal|tsgpu-cell|\.js:\d+/.test(text));
    assert.deepEqual(kernelFrames, [], error.traceback.join('\n'));
    assert.ok(cellFrames(error.traceback).length > 0, error.traceback.join('\n'));
  });

  test('ename comes from the error class: a custom `class MyError extends Error` shows MyError', async () => {
    const { error, count } = await runFailing(kernel(),
      "class MyError extends Error { override name = 'MyError' }\nthrow new MyError('custom')");
    assert.equal(error.ename, 'MyError');
    assert.equal(error.evalue, 'custom');
    assert.equal(error.traceback[0], 'MyError: custom');
    assert.deepEqual(cellFrames(error.traceback).slice(0, 1).map((f) => [f.cell, f.line, f.column]), [[count, 2, 7]]);
  });

  test('a rejected top-level await is reported with the line of the rejection', async () => {
    const { error } = await runFailing(kernel(), "const before = 1;\nawait Promise.reject(new Error('rejected'))");
    assert.equal(error.ename, 'Error');
    assert.equal(error.evalue, 'rejected');
    assert.equal(cellFrames(error.traceback)[0]?.line, 2, error.traceback.join('\n'));
  });

  // Printed under the next cell the user ran, with ~20 of the kernel's frames and the cell's at
  // lines of the emitted code, it was hard to tell whose error it was.
  test('a promise the cell rejected and nobody awaited: said in that cell, at its own lines, without the kernel\'s frames; the next cell is clean', async () => {
    const code = "async function bad() { throw new Error('nobody awaited me') }\nbad();\n'cell A'";
    const exchange = await kernel().execute(code);
    assert.equal(executeReply(exchange).status, 'ok');
    const count = executeReply(exchange).execution_count;
    const stderr = streamText(exchange, 'stderr');
    assert.match(stderr, /^Unhandled promise rejection: Error: nobody awaited me$/m, stderr);
    const column = code.indexOf('new Error') + 1;
    assert.match(stderr, new RegExp(`^\\s+at bad \\(<cell ${count}>:1:${column}\\)$`, 'm'), stderr);
    assert.match(stderr, new RegExp(`^\\s+at <cell ${count}>:2:1$`, 'm'), stderr);
    assert.doesNotMatch(stderr, /dist\/kernel|node:internal|interrupt-line/, stderr);
    assert.equal(stderr.split('\n').filter((line) => /^\s+at /.test(line)).length, 2, stderr);
    const next = await kernel().execute("'cell B'");
    assert.equal(streamText(next, 'stderr'), '', 'nothing of the earlier cell\'s error in the next cell');
  });

  // It ended the kernel with SIGABRT, no reply, every variable lost; IPython keeps its kernel for sys.exit().
  test('process.exit(3) in a cell is an error of that cell; the kernel and its variables stay', async () => {
    await kernel().execute('const keptThroughExit = 42;');
    const { error } = await runFailing(kernel(), 'process.exit(3)');
    assert.equal(error.ename, 'ProcessExit', error.evalue);
    assert.match(error.evalue, /keeps running/, error.evalue);
    const after = await kernel().execute('keptThroughExit + 1');
    assert.equal(executeReply(after).status, 'ok');
    assert.equal(resultText(after), '43');
  });

  test('the kernel keeps working after a runtime error', async () => {
    await runFailing(kernel(), "throw new Error('once')");
    const exchange = await kernel().execute('1 + 1');
    assert.equal(executeReply(exchange).status, 'ok');
  });
});
