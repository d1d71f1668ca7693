// The kernel core: one table from msg_type to handler, and the bookkeeping every request shares
// (busy/idle bracketing with the parent header, the reply, the shell queue, aborting after an
// error). It talks to sockets only through KernelIO and to the language only through Interpreter,
// so it runs the same in the protocol worker and in unit tests without sockets.
import type { Interpreter, OutputEvent } from '../interpreter/interpreter';
import { log } from '../log';
import {
  type Channel, type JsonObject, type Message, type Outgoing, type Session, makeBroadcast, makeReply, replyType,
} from '../protocol/messages';
import { sentBefore } from '../protocol/sent-order';
import { executeRequest } from './handlers/execute';
import { historyRequest } from './handlers/history';
import { completeRequest, inspectRequest, isCompleteRequest } from './handlers/introspection';
import { kernelInfoReply, type KernelIdentity } from './handlers/kernel-info';
import { History } from './history';

export interface KernelIO {
  send(channel: Exclude<Channel, 'iopub'>, message: Outgoing): void;
  publish(message: Outgoing): void;
}

/** What the core asks of the process it lives in. */
export interface ProcessControl {
  interrupt(): void;
  shutdown(restart: boolean): void;
}

/** Everything a handler may use; handlers never see sockets. */
export interface HandlerContext {
  readonly request: Message;
  readonly interpreter: Interpreter;
  readonly history: History;
  readonly identity: KernelIdentity;
  publish(msgType: string, content: JsonObject, metadata?: JsonObject): void;
}

/** A handler returns the reply content, or null for messages that get no reply (comm_open). */
type Handler = (context: HandlerContext, core: KernelCore) => Promise<JsonObject | null>;

const handlers: Record<string, Handler> = {
  kernel_info_request: async (context) => kernelInfoReply(context.identity),
  execute_request: executeRequest,
  complete_request: completeRequest,
  inspect_request: inspectRequest,
  is_complete_request: isCompleteRequest,
  history_request: historyRequest,
  comm_info_request: async () => ({ status: 'ok', comms: {} }),
  comm_open: async (context) => {
    // No comm targets are registered yet: the spec says to answer an unknown target with comm_close.
    const commId = context.request.content['comm_id'];
    // A comm_open without a string comm_id names no comm that could be closed.
    if (typeof commId === 'string') context.publish('comm_close', { comm_id: commId, data: {} });
    return null;
  },
  comm_msg: async () => null,
  comm_close: async () => null,
  interrupt_request: async (context, core) => {
    const running = core.runningExecuteRequest();
    if (running && sentBefore(context.request, running)) {
      // Its client sent it before asking for the cell running now: it was meant for an earlier
      // cell, which has ended. Stopping this one would stop a cell nobody asked to stop.
      log('interrupt_request: sent before the running cell was requested (its client\'s dates say so); '
        + 'the cell it was meant for has ended, nothing is stopped');
      return { status: 'ok' };
    }
    core.processControl.interrupt();
    return { status: 'ok' };
  },
  shutdown_request: async (context, core) => {
    const restart = context.request.content['restart'] === true;
    core.shutdownRequested = restart ? 'restart' : 'shutdown';
    return { status: 'ok', restart };
  },
};

export class KernelCore {
  private readonly shellQueue: Message[] = [];
  private shellRunning = false;
  /** Count of the last cell that stored history (`In [n]`). */
  executionCount = 0;
  private readonly history = new History();
  /** The request whose output is current: late output (timers) is attributed to it, as ipykernel does. */
  private lastParent: Message | null = null;
  shutdownRequested: 'shutdown' | 'restart' | null = null;
  /** The execute_request whose cell is running: prompt() asks its sender for input. */
  private runningExecute: Message | null = null;
  private pendingInput: { resolve: (value: string) => void; reject: (error: Error) => void } | null = null;

  constructor(
    private readonly io: KernelIO,
    private readonly interpreter: Interpreter,
    readonly processControl: ProcessControl,
    private readonly session: Session,
    private readonly identity: KernelIdentity,
  ) {}

  /** Entry point for every decoded message. */
  receive(channel: Exclude<Channel, 'iopub'>, message: Message): void {
    if (channel === 'stdin') {
      this.receiveInput(message);
      return;
    }
    const type = message.header.msg_type;
    if (channel === 'control' || type === 'interrupt_request') {
      // Control never waits behind a running cell; VS Code also sends interrupt_request on shell.
      void this.dispatch(channel, message);
      return;
    }
    this.shellQueue.push(message);
    void this.drainShell();
  }

  /** Runs a cell's execution; prompt() may ask for input only meanwhile. */
  async whileExecuting<T>(request: Message, run: () => Promise<T>): Promise<T> {
    this.runningExecute = request;
    try {
      return await run();
    } finally {
      this.runningExecute = null;
      this.pendingInput?.reject(new Error('the cell ended before input arrived'));
      this.pendingInput = null;
    }
  }

  /** The execute_request whose cell is running now, if any. */
  runningExecuteRequest(): Message | null {
    return this.runningExecute;
  }

  /** input_request on stdin to the client that sent the running execute_request. */
  requestInput(prompt: string, password: boolean): Promise<string> {
    const request = this.runningExecute;
    if (!request) return Promise.reject(new Error('prompt() can only ask for input while its cell is running'));
    if (request.content['allow_stdin'] !== true) {
      return Promise.reject(new Error('this client does not accept input (allow_stdin is false), so prompt() cannot ask for any'));
    }
    this.pendingInput?.reject(new Error('a newer prompt() replaced this one'));
    return new Promise((resolve, reject) => {
      this.pendingInput = { resolve, reject };
      this.io.send('stdin', makeReply(this.session, request, 'input_request', { prompt, password }));
    });
  }

  private receiveInput(message: Message): void {
    if (message.header.msg_type !== 'input_reply' || !this.pendingInput) {
      log(`stdin: ignoring ${message.header.msg_type} (no prompt is waiting)`);
      return;
    }
    const value = message.content['value'];
    this.pendingInput.resolve(typeof value === 'string' ? value : '');
    this.pendingInput = null;
  }

  /** Output that arrived while no cell ran. */
  publishStray(event: OutputEvent): void {
    this.publishOutput(this.lastParent, event, this.executionCount);
  }

  publishOutput(parent: Message | null, event: OutputEvent, executionCount: number): void {
    const { type, ...fields } = event;
    let content: JsonObject;
    switch (event.type) {
      case 'stream':
        content = { name: event.name, text: event.text };
        break;
      case 'execute_result':
        content = { execution_count: executionCount, data: event.data, metadata: event.metadata };
        break;
      case 'display_data':
      case 'update_display_data':
        content = {
          data: event.data, metadata: event.metadata,
          transient: event.displayId === undefined ? {} : { display_id: event.displayId },
        };
        break;
      case 'clear_output':
        content = fields as JsonObject;
        break;
    }
    const createdAt = event.type === 'display_data' || event.type === 'update_display_data' ? event.createdAt : undefined;
    this.io.publish(makeBroadcast(this.session, parent, type, content, {}, createdAt));
  }

  private async drainShell(): Promise<void> {
    if (this.shellRunning) return;
    this.shellRunning = true;
    try {
      for (let message = this.shellQueue.shift(); message; message = this.shellQueue.shift()) {
        await this.dispatch('shell', message);
        // One turn of the event loop before the next queued request: an interrupt_request a client
        // sent before that request reaches its own socket's reader then, and finds no cell running,
        // rather than the queued cell it was never meant for (control and shell are read apart, and
        // a cell that ended within ms of the interrupt being sent left the next one current).
        if (this.shellQueue.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.shellRunning = false;
    }
  }

  /** stop_on_error: executes queued behind a failed one are answered `aborted`, not run. */
  abortQueuedExecutes(): void {
    const kept: Message[] = [];
    for (const message of this.shellQueue.splice(0)) {
      if (message.header.msg_type !== 'execute_request') {
        kept.push(message);
        continue;
      }
      this.publishStatus(message, 'busy');
      this.io.send('shell', makeReply(this.session, message, 'execute_reply', { status: 'aborted', execution_count: this.executionCount }));
      this.publishStatus(message, 'idle');
    }
    this.shellQueue.push(...kept);
  }

  private publishStatus(parent: Message, state: 'busy' | 'idle'): void {
    this.io.publish(makeBroadcast(this.session, parent, 'status', { execution_state: state }));
  }

  private async dispatch(channel: 'shell' | 'control', request: Message): Promise<void> {
    const type = request.header.msg_type;
    // Own properties only: `constructor` or `toString` as a msg_type is unknown, not Object's.
    const handler = Object.hasOwn(handlers, type) ? handlers[type] : undefined;
    if (!handler) {
      log(`ignoring unknown message type "${type}" on ${channel}`);
      return;
    }
    this.publishStatus(request, 'busy');
    const context = this.contextFor(request);
    let content: JsonObject | null;
    try {
      content = await handler(context, this);
    } catch (error) {
      // A handler bug must not take the channel down: the client gets an error reply.
      log(`handler for ${type} failed: ${error instanceof Error ? error.stack : String(error)}`);
      content = { status: 'error', ename: 'KernelError', evalue: String(error), traceback: [] };
    }
    if (content) {
      const reply = makeReply(this.session, request, replyType(type), content);
      this.io.send(channel, reply);
      // Since protocol 5.4 shutdown_reply is also broadcast, so every client learns of it.
      if (type === 'shutdown_request') this.io.publish(makeBroadcast(this.session, request, 'shutdown_reply', content));
    }
    this.publishStatus(request, 'idle');
    if (type === 'execute_request' && content?.['status'] === 'error' && request.content['stop_on_error'] !== false) {
      this.abortQueuedExecutes();
    }
    if (this.shutdownRequested) this.processControl.shutdown(this.shutdownRequested === 'restart');
  }

  private contextFor(request: Message): HandlerContext {
    const core = this;
    return {
      request,
      interpreter: this.interpreter,
      history: this.history,
      identity: this.identity,
      publish(msgType, content, metadata) {
        if (msgType !== 'status') core.lastParent = request;
        core.io.publish(makeBroadcast(core.session, request, msgType, content, metadata));
      },
    };
  }

  /** Publishes a cell's output with its request as parent (used by the execute handler). */
  outputFor(request: Message, executionCount: number): (event: OutputEvent) => void {
    this.lastParent = request;
    return (event) => this.publishOutput(request, event, executionCount);
  }
}
