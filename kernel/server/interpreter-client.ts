// Worker side of the thread link: the interpreter on the main thread, seen as a plain async
// Interpreter. The kernel core cannot tell it from an in-process one (its unit tests use one).
import type { MessagePort } from 'node:worker_threads';
import type {
  Completion, CompletenessStatus, ExecuteOptions, ExecuteOutcome, ExpressionValue, Inspection, Interpreter, OutputEvent,
} from '../interpreter/interpreter';
import { createInterruptLine, InterruptSender } from '../interpreter/interrupt-line';
import { BacklogReceiver, createOutputBacklog } from '../interpreter/output-backlog';
import type { InterpreterMethod, ToMain, ToWorker } from '../interpreter/thread-link';
import { log } from '../log';

interface PendingCall {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  emit?: (event: OutputEvent) => void;
  /** An execute call's: its cell's count, for the finishCell that follows it. */
  executionCount?: number;
}

/**
 * The closing of the last cell, which the main thread runs right after its execute (host.ts):
 * outputs held until the handler's finishCell asks for them (so they follow what the handler
 * publishes between the two, the cell's error), then passed on as they come.
 */
interface Closing {
  callId: number;
  executionCount: number;
  held: OutputEvent[];
  emit: ((event: OutputEvent) => void) | null;
  /** The main thread's `finished` came: the closing is over once the handler has asked for it too. */
  finished: boolean;
  done: Promise<void>;
  settle: (failure?: string) => void;
}

/** How often a running cell is asked for kept-back text: the main thread sends it once 50 ms passed since its last send. */
const OUTPUT_ASK_MS = 50;

export class InterpreterClient implements Interpreter {
  private nextId = 1;
  private readonly pending = new Map<number, PendingCall>();
  private closing: Closing | null = null;
  private readonly line = createInterruptLine();
  private readonly interrupts = new InterruptSender(this.line);
  private readonly backlog = createOutputBacklog();
  private readonly published = new BacklogReceiver(this.backlog);
  /** While an execute call runs: asks its loops for printed text the main thread keeps back (interrupt-line.ts OUTPUT_ASKED). */
  private askingForOutput: ReturnType<typeof setInterval> | null = null;

  /**
   * @param onStrayOutput output that arrives while no cell runs (timers, late promises).
   * @param onInputRequest a cell's prompt(), answered through the client's stdin channel.
   */
  constructor(
    private readonly port: MessagePort,
    private readonly onStrayOutput: (event: OutputEvent) => void,
    private readonly onInputRequest: (prompt: string, password: boolean) => Promise<string>,
  ) {
    port.on('message', (message: ToWorker) => this.receive(message));
    // First, so the main thread has the line before any call it could be used for.
    this.post({ kind: 'interrupt_line', buffer: this.line });
    this.post({ kind: 'output_backlog', buffer: this.backlog });
  }

  /**
   * interrupt_request: for the cell running now, never a later one; nothing between cells. SIGINT
   * goes only to a cell whose script is inside its run; the message reaches one that awaits or has
   * not started its run yet (that run then refuses to start).
   */
  interrupt(): void {
    const id = this.interrupts.current();
    if (id === 0) {
      // The stop button pressed at an idle kernel whose cells left work running (an async recursion
      // through setImmediate, growing until the kernel ran out of memory): that work stops.
      this.post({ kind: 'stop_leftovers' });
      log('interrupt_request: no cell is running; the work earlier cells left running is stopped');
      return;
    }
    const outcome = this.interrupts.interrupt(id);
    this.post({ kind: 'interrupt', callId: id });
    log(`interrupt_request: call ${id} ${outcome === 'signalled' ? 'was inside its run: SIGINT sent'
      : outcome === 'marked' ? 'stops before its run or where it awaits' : 'was interrupted already'}`);
  }

  execute(code: string, options: ExecuteOptions, emit: (event: OutputEvent) => void): Promise<ExecuteOutcome> {
    return this.call('execute', [code, options], emit, options.executionCount) as Promise<ExecuteOutcome>;
  }
  /** The main thread closes each cell right after its execute: this takes what that sent, and waits for the rest. */
  finishCell(executionCount: number, emit: (event: OutputEvent) => void): Promise<void> {
    const closing = this.closing;
    if (closing === null || closing.executionCount !== executionCount) return this.call('finishCell', [executionCount], emit) as Promise<void>;
    closing.emit = emit;
    for (const event of closing.held.splice(0)) emit(event);
    if (closing.finished) this.closing = null;
    return closing.done;
  }
  evaluate(expression: string): Promise<ExpressionValue> {
    return this.call('evaluate', [expression]) as Promise<ExpressionValue>;
  }
  complete(code: string, cursorPos: number): Promise<Completion> {
    return this.call('complete', [code, cursorPos]) as Promise<Completion>;
  }
  inspect(code: string, cursorPos: number, detailLevel: number): Promise<Inspection> {
    return this.call('inspect', [code, cursorPos, detailLevel]) as Promise<Inspection>;
  }
  isComplete(code: string): Promise<CompletenessStatus> {
    return this.call('isComplete', [code]) as Promise<CompletenessStatus>;
  }

  private call(method: InterpreterMethod, args: unknown[], emit?: (event: OutputEvent) => void, executionCount?: number): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ...(emit ? { emit } : {}), ...(executionCount === undefined ? {} : { executionCount }) });
      if (method === 'execute') {
        this.interrupts.cellStarted(id);
        this.askingForOutput ??= setInterval(() => this.interrupts.askForKeptOutput(), OUTPUT_ASK_MS).unref();
      }
      this.post({ kind: 'call', id, method, args });
    });
  }

  private post(message: ToMain): void {
    this.port.postMessage(message);
  }

  private receive(message: ToWorker): void {
    if (message.kind === 'input_request') {
      const { id } = message;
      this.onInputRequest(message.prompt, message.password).then(
        (value) => this.post({ kind: 'input_reply', id, value }),
        (error: Error) => this.post({ kind: 'input_failure', id, message: error.message }),
      );
      return;
    }
    if (message.kind === 'output') {
      try {
        const closing = this.closing?.callId === message.callId ? this.closing : null;
        if (closing !== null && closing.emit === null) closing.held.push(message.event);
        else (closing?.emit ?? (message.callId === null ? undefined : this.pending.get(message.callId)?.emit) ?? this.onStrayOutput)(message.event);
      } finally {
        if (message.event.type === 'stream') this.published.taken();
      }
      return;
    }
    if (message.kind === 'finished') {
      const closing = this.closing;
      if (closing?.callId !== message.id) return;
      closing.settle(message.failure);
      closing.finished = true;
      // Before the handler asked (were its own steps to wait on anything): it finds the outputs held.
      if (closing.emit !== null) this.closing = null;
      return;
    }
    const call = this.pending.get(message.id);
    if (!call) return;
    this.pending.delete(message.id);
    this.interrupts.cellEnded(message.id);
    if (this.askingForOutput !== null && this.interrupts.current() === 0) {
      clearInterval(this.askingForOutput);
      this.askingForOutput = null;
    }
    if (message.kind === 'result' && call.executionCount !== undefined) this.startClosing(message.id, call.executionCount);
    if (message.kind === 'result') call.resolve(message.value);
    else call.reject(new Error(message.message));
  }

  /** An execute call answered: the main thread closes its cell now, under the same id. */
  private startClosing(callId: number, executionCount: number): void {
    let settle: (failure?: string) => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => {
      settle = (failure) => (failure === undefined ? resolve() : reject(new Error(failure)));
    });
    // A handler that never asks (it failed between the two) leaves nobody waiting on it.
    done.catch(() => undefined);
    this.closing?.settle('a later cell started before this one was closed');
    this.closing = { callId, executionCount, held: [], emit: null, finished: false, done, settle };
  }
}
