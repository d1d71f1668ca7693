// When printed text goes out (kernel/interpreter/output-capture.ts). A cell that prints and then
// loops on awaits that settle at once gives the flush timer no turn: whatever the capture keeps
// back then stays back until the loop ends, so what it sends at once is what the user sees.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { OutputEvent } from '../../kernel/interpreter/interpreter';
import { OutputCapture } from '../../kernel/interpreter/output-capture';

function capture(): { output: OutputCapture; sent: string[] } {
  const sent: string[] = [];
  const output = new OutputCapture((event: OutputEvent) => {
    if (event.type === 'stream') sent.push(event.text);
  });
  return { output, sent };
}

test("a cell's first output goes out at once, though the kernel sent something of its own just before (its flush had no text)", () => {
  const { output, sent } = capture();
  output.write('stdout', 'the last cell\n');
  output.flush();
  output.startCell();
  // What the kernel emits (a notice, a display) flushes the capture first: nothing is pending.
  output.flush();
  output.write('stdout', 'spinning\n');
  assert.deepEqual(sent, ['the last cell\n', 'spinning\n']);
});

test('a flush with nothing to send is no send: text written past the interval since the last one goes out at once', async () => {
  const { output, sent } = capture();
  output.startCell();
  output.write('stdout', 'a\n');
  assert.deepEqual(sent, ['a\n']);
  await sleep(80);
  output.flush();
  output.write('stdout', 'b\n');
  assert.deepEqual(sent, ['a\n', 'b\n']);
});

test('text written soon after a send waits and goes out together (a loop that prints streams in batches)', async () => {
  const { output, sent } = capture();
  output.startCell();
  output.write('stdout', 'a\n');
  output.write('stdout', 'b\n');
  output.write('stdout', 'c\n');
  assert.deepEqual(sent, ['a\n']);
  await sleep(120);
  assert.deepEqual(sent, ['a\n', 'b\nc\n']);
});

test('text kept back is sent by the first op past the interval, where the flush timer gets no turn', () => {
  const { output, sent } = capture();
  output.startCell();
  output.write('stderr', 'starting\n');
  output.write('stdout', 'spinning\n');
  output.flushIfDue();
  assert.deepEqual(sent, ['starting\n'], 'sent before its interval was up');
  // A loop of awaits that settle at once: the thread never gets back to the timers.
  const until = Date.now() + 60;
  while (Date.now() < until);
  output.flushIfDue();
  assert.deepEqual(sent, ['starting\n', 'spinning\n']);
});

// An interrupt's SIGINT ends the cell's run where it lands, with no finally. A Writable stream
// stopped inside a write stayed busy for good, and every later console.log of the session was
// buffered there (found in review, after 10-40 interrupts of a printing loop). A write that throws
// part-way stands in for the stop here.
test('a console write stopped part-way leaves the console working for the rest of the session', () => {
  let stopNext = false;
  const sent: string[] = [];
  const output = new OutputCapture((event: OutputEvent) => {
    if (stopNext) {
      stopNext = false;
      throw new Error('stopped here');
    }
    if (event.type === 'stream') sent.push(event.text);
  });
  const cellConsole = output.console();
  output.startCell();
  stopNext = true;
  // The console swallows what its stream throws: the stop shows only in what comes after.
  cellConsole.log('stopped');
  output.startCell();
  cellConsole.log('after');
  output.flush();
  assert.deepEqual(sent, ['after\n']);
});
