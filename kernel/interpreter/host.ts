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
  private nextInputId = 1;
  private readonly pendingInputs = new Map<number, { resolve: (value: string) => void; reject: (error: Error) => void }>();

  constructor(private readonly interpreter: Interpreter, private readonly worker: Worker) {
    this.capture = new OutputCapture((event) => this.post({ kind: 'output', callId: this.runningCall, event }));
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

  /** Handles one message from the worker. */
  async serve(message: ToMain): Promise<void> {
    if (message.kind === 'input_reply' || message.kind === 'input_failure') {
      const pending = this.pendingInputs.get(message.id);
      this.pendingInputs.delete(message.id);
      if (message.kind === 'input_reply') pending?.resolve(message.value);
      else pending?.reject(new Error(message.message));
      return;
    }
    if (message.kind !== 'call') return;
    const { id, method, args } = message;
    try {
      let value: unknown;
      if (method === 'execute' || method === 'finishCell') {
        this.runningCall = id;
        const emit = (event: OutputEvent): void => {
          this.capture.flush(); // streams printed before a display stay before it
          this.post({ kind: 'output', callId: id, event });
        };
        try {
          value = method === 'execute'
            ? await this.interpreter.execute(args[0] as string, args[1] as Parameters<Interpreter['execute']>[1], emit)
            : await this.interpreter.finishCell(args[0] as number, emit);
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
