// Main-thread side of the thread link: serves interpreter calls from the protocol worker and
// sends back everything the running cell emits, in order.
import type { Worker } from 'node:worker_threads';
import type { Interpreter, OutputEvent } from './interpreter';
import { OutputCapture } from './output-capture';
import type { ToMain, ToWorker } from './thread-link';

export class InterpreterHost {
  /** The call whose cell is running; output outside a cell (a late timer) is sent with null. */
  private runningCall: number | null = null;
  readonly capture: OutputCapture;

  constructor(private readonly interpreter: Interpreter, private readonly worker: Worker) {
    this.capture = new OutputCapture((event) => this.post({ kind: 'output', callId: this.runningCall, event }));
  }

  /** Handles one message from the worker; returns false for messages that are not calls. */
  async serve(message: ToMain): Promise<void> {
    if (message.kind !== 'call') return;
    const { id, method, args } = message;
    try {
      let value: unknown;
      if (method === 'execute') {
        this.runningCall = id;
        const emit = (event: OutputEvent): void => {
          this.capture.flush(); // streams printed before a display stay before it
          this.post({ kind: 'output', callId: id, event });
        };
        try {
          value = await this.interpreter.execute(args[0] as string, args[1] as Parameters<Interpreter['execute']>[1], emit);
        } finally {
          this.capture.flush(); // the spec wants streams out before the reply and `idle`
          this.runningCall = null;
        }
      } else {
        const call = this.interpreter[method] as (...callArgs: unknown[]) => Promise<unknown>;
        value = await call.apply(this.interpreter, args);
      }
      this.post({ kind: 'result', id, value });
    } catch (error) {
      this.post({ kind: 'failure', id, message: error instanceof Error ? error.stack ?? error.message : String(error) });
    }
  }

  private post(message: ToWorker): void {
    this.worker.postMessage(message);
  }
}
