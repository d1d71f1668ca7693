// Main-thread side of the thread link: serves interpreter calls from the protocol worker and
// sends back everything the running cell emits, in order.
import type { Worker } from 'node:worker_threads';
import type { CellRunner, ExecuteOptions, Interpreter, OutputEvent } from './interpreter';
import { setInterruptPoll, setLoopLine, stopIfInterrupted } from './cell-context';
import { callUnderSigint, InterruptReceiver, interruptedError } from './interrupt-line';
import { BacklogSender } from './output-backlog';
import { OutputCapture } from './output-capture';
import type { ToMain, ToWorker } from './thread-link';

export class InterpreterHost implements CellRunner {
  /** The call whose cell is running; output outside a cell (a late timer) is sent with null. */
  private runningCall: number | null = null;
  /** The execute call running now: the only kind an interrupt is for (finishCell runs no user code). */
  private runningCell: number | null = null;
  private line: InterruptReceiver | null = null;
  private backlog: BacklogSender | null = null;
  /** The execute call a SIGINT handled by the listener was for. */
  private signalled = 0;
  readonly capture: OutputCapture;
  private nextInputId = 1;
  private readonly pendingInputs = new Map<number, { resolve: (value: string) => void; reject: (error: Error) => void }>();

  constructor(private readonly interpreter: Interpreter, private readonly worker: Worker) {
    this.capture = new OutputCapture((event) => this.post({ kind: 'output', callId: this.runningCall, event }), stopIfInterrupted,
      (kept) => this.line?.outputKept(kept));
    // An interrupt_request marks the line at once; a cell that never yields sees it at its next op or output.
    // Polled at each of a cell's ops and outputs: also where pending output goes out in a loop that starves timers.
    setInterruptPoll(() => {
      this.capture.flushIfDue();
      const id = this.runningCell;
      if (id !== null && this.interrupted(id)) this.stopAwaiting(id);
    });

  }

  /** Output of the running cell, or of the last one between cells; streams printed before it stay before it. */
  emit(event: OutputEvent): void {
    this.capture.flush();
    this.post({ kind: 'output', callId: this.runningCall, event });
  }

  /** prompt(): a line of input from the client, through the protocol worker. */
  requestInput(prompt: string, password: boolean): Promise<string> {
    if (this.runningCall === null) return Promise.reject(new Error('prompt() can only ask for input while its cell is running'));
    const id = this.nextInputId++;
    this.capture.flush();
    return new Promise((resolve, reject) => {
      this.pendingInputs.set(id, { resolve, reject });
      this.post({ kind: 'input_request', id, prompt, password });
    });
  }

  /**
   * SIGINT that reached the process outside a run (Node hands a run's own to the run): for the cell
   * the worker has started, whichever step it is at, and for nothing between cells, as in ipykernel.
   */
  interruptBySignal(): void {
    const id = this.line?.current() ?? 0;
    if (id === 0) return;
    this.signalled = id;
    this.stopAwaiting(id);
  }

  settle(): Promise<void> {
    // A SIGINT that arrived while the cell compiled reaches its listener in a poll phase; one
    // setImmediate may run before that phase comes round, the second runs after it.
    return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
  }

  run(cell: () => unknown): unknown {
    const id = this.runningCell;
    if (id !== null && this.signalled === id) throw interruptedError();
    return this.line ? this.line.run(id, cell) : callUnderSigint(() => cell.call(globalThis));
  }

  private interrupted(id: number): boolean {
    return this.signalled === id || (this.line?.interrupted(id) ?? false);
  }

  /** A cell that awaits, or has not reached its run yet, stops at its next step. */
  private stopAwaiting(id: number): void {
    if (this.runningCell === id) this.interpreter.interrupt?.();
  }

  /** Handles one message from the worker. */
  async serve(message: ToMain): Promise<void> {
    if (message.kind === 'interrupt_line') {
      this.line = new InterruptReceiver(message.buffer);
      // Read at every iteration of the cells' own loops (cell-context.ts loopLine).
      // Inside the cell's run SIGINT stops it (interrupt-line.ts inRun): the loop's check only acts after an await.
      const line = this.line;
      setLoopLine(line.pendingView(), (id) => this.runningCell === id, (id) => line.inRun(id), () => this.capture.flushIfDue());
      return;
    }
    if (message.kind === 'output_backlog') {
      this.backlog = new BacklogSender(message.buffer);
      return;
    }
    if (message.kind === 'interrupt') {
      this.stopAwaiting(message.callId);
      return;
    }
    if (message.kind === 'stop_leftovers') {
      if (this.runningCell === null) this.interpreter.stopLeftovers?.();
      return;
    }
    if (message.kind === 'input_reply' || message.kind === 'input_failure') {
      const pending = this.pendingInputs.get(message.id);
      this.pendingInputs.delete(message.id);
      if (message.kind === 'input_reply') pending?.resolve(message.value);
      else pending?.reject(new Error(message.message));
      return;
    }
    if (message.kind !== 'call') return;
    const { id, method, args } = message;
    let outcome: unknown;
    try {
      outcome = method === 'execute' || method === 'finishCell' ? await this.runCellCall(id, method, args) : await (this.interpreter[method] as (...callArgs: unknown[]) => Promise<unknown>).apply(this.interpreter, args);
    } catch (error) {
      this.post({ kind: 'failure', id, message: errorText(error) });
      return;
    }
    this.post({ kind: 'result', id, value: outcome });
    // The cell's closing outputs (its device report) follow its outcome at once, under the same
    // call: the worker asked for them in a call of its own before, a round trip between the two
    // threads (about 1 ms here) on every cell's way to its reply. The worker holds what arrives
    // until its handler asks (thread-link.ts 'finished').
    if (method === 'execute') {
      try {
        await this.runCellCall(id, 'finishCell', [(args[1] as ExecuteOptions).executionCount]);
        this.post({ kind: 'finished', id });
      } catch (error) {
        this.post({ kind: 'finished', id, failure: errorText(error) });
      }
    }
  }

  /** A call that runs or closes a cell: what it prints and emits goes out under its id. */
  private async runCellCall(id: number, method: 'execute' | 'finishCell', args: unknown[]): Promise<unknown> {
    this.runningCall = id;
    const emit = (event: OutputEvent): void => {
      this.capture.flush(); // streams printed before a display stay before it
      this.post({ kind: 'output', callId: id, event });
    };
    try {
      if (method === 'finishCell') return await this.interpreter.finishCell(args[0] as number, emit);
      this.runningCell = id;
      this.capture.startCell();
      const running = this.interpreter.execute(args[0] as string, args[1] as ExecuteOptions, emit);
      // Interrupted before its call got here: an interrupt_request marked it, or a SIGINT came first.
      if (this.interrupted(id)) this.interpreter.interrupt?.();
      const outcome = await running;
      // Node names a promise the cell rejected and nobody awaited (\`bad();\`) only once this turn
      // of the event loop ends: let it end here, so that the error shows in this cell, not the next.
      await new Promise<void>((resolve) => setImmediate(resolve));
      return outcome;
    } finally {
      this.capture.flush(); // the spec wants streams out before the reply and `idle`
      this.runningCall = null;
      this.runningCell = null;
    }
  }

  private post(message: ToWorker): void {
    // Printing waits while the worker is behind (output-backlog.ts): it counts every stream chunk.
    const stream = message.kind === 'output' && message.event.type === 'stream';
    if (stream) this.backlog?.beforePost();
    this.worker.postMessage(message);
    if (stream) this.backlog?.posted();
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.stack ?? error.message : String(error);
}
