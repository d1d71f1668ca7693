// Text the main thread keeps back is asked for through the interrupt line, which a cell's loops
// read at every iteration (interrupt-line.ts OUTPUT_ASKED): a synchronous loop gives the main
// thread's flush timer no turn. The two halves of the line on one buffer, as the two threads hold them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loopTick, setLoopLine } from '../../kernel/interpreter/cell-context';
import { createInterruptLine, InterruptReceiver, InterruptSender, OUTPUT_ASKED } from '../../kernel/interpreter/interrupt-line';
import { OutputCapture } from '../../kernel/interpreter/output-capture';

function line(): { sender: InterruptSender; receiver: InterruptReceiver; pending: Int32Array } {
  const buffer = createInterruptLine();
  const receiver = new InterruptReceiver(buffer);
  return { sender: new InterruptSender(buffer), receiver, pending: receiver.pendingView() };
}

test('the worker asks only while text is kept back, and an interrupt pending is not overwritten', () => {
  const { sender, receiver, pending } = line();
  sender.askForKeptOutput();
  assert.equal(pending[0], 0, 'nothing kept: nothing asked');
  receiver.outputKept(true);
  sender.askForKeptOutput();
  assert.equal(pending[0], OUTPUT_ASKED);
  Atomics.store(pending, 0, 0);
  sender.cellStarted(7);
  sender.interrupt(7);
  sender.askForKeptOutput();
  assert.equal(pending[0], 7, 'the interrupt stays for the loops to see');
});

test("a loop's check sends the kept text once its interval is up, and clears the ask", () => {
  const { sender, receiver, pending } = line();
  const sent: string[] = [];
  const capture = new OutputCapture((event) => {
    if (event.type === 'stream') sent.push(event.text);
  }, () => undefined, (kept) => receiver.outputKept(kept));
  setLoopLine(pending, () => false, () => false, () => capture.flushIfDue());
  capture.startCell();
  capture.write('stdout', 'a\n');
  capture.write('stdout', 'b\n');
  assert.deepEqual(sent, ['a\n']);
  // A synchronous loop: the flush timer never runs; the worker's ask comes in while it spins.
  const until = Date.now() + 60;
  while (Date.now() < until);
  sender.askForKeptOutput();
  assert.equal(pending[0], OUTPUT_ASKED);
  loopTick();
  assert.deepEqual(sent, ['a\n', 'b\n']);
  assert.equal(pending[0], 0, 'the ask is answered');
  sender.askForKeptOutput();
  assert.equal(pending[0], 0, 'nothing is kept any more: no ask');
});
