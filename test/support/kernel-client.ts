// A real ZeroMQ Jupyter client, the way VS Code talks to a kernel it launched: DEALER sockets for
// shell/control/stdin, SUB for iopub, REQ for heartbeat. Every message from the kernel is
// signature-checked and validated against the 5.3 spec; any problem fails the waiting request
// and is kept in `problems`, which each test file asserts empty in `after()`.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as zmq from 'zeromq';
import { ConnectionInfo, writeConnectionFile } from './connection-file';
import { killIfRunning, KernelProcess, launchKernel } from './kernel-process';
import { describeMessage, validateMessage } from './message-schema';
import { isPlainObject } from './schema';
import { Channel, Exchange, PendingRequest, Received, RequestChannel } from './pending-request';
import { TIMED_OUT, within } from './time';
import { decodeFrames, encodeFrames, makeSigner, OutgoingMessage, Signer } from './wire-sign';

export type { Channel, Exchange, Received, RequestChannel } from './pending-request';
export { PendingRequest } from './pending-request';

export interface RequestOptions {
  /** Every request has a deadline; default 15 s (kernel start and 2 shared cores). */
  timeoutMs?: number;
  /** Wait for iopub status idle as well as the reply (default true). */
  waitIdle?: boolean;
  /** Use this signature frame instead of the right one. */
  signature?: string;
}

export interface ExecuteOptions {
  silent?: boolean;
  store_history?: boolean;
  stop_on_error?: boolean;
  allow_stdin?: boolean;
  user_expressions?: Record<string, string>;
}

export const DEFAULT_TIMEOUT_MS = 15_000;

export function executeContent(code: string, options: ExecuteOptions = {}): Record<string, unknown> {
  return {
    code,
    silent: false,
    store_history: true,
    user_expressions: {},
    allow_stdin: false,
    stop_on_error: true,
    ...options,
  };
}

export class KernelClient {
  /** The session id: its own, or another client's when `options.session` shares it (as `km.client()` twice does). */
  readonly session: string;
  /**
   * The ZeroMQ routing id of the shell and stdin DEALERs. They must match (jupyter_client gives both
   * the session id): the kernel's stdin ROUTER sends input_request to the identity that sent the
   * running execute_request on shell.
   */
  readonly routingId: string;
  /** Everything the kernel sent, in arrival order. */
  readonly received: Received[] = [];
  /** Unreadable, badly signed or spec-invalid messages from the kernel. */
  readonly problems: string[] = [];
  readonly sign: Signer;
  private readonly sockets: { shell: zmq.Dealer; control: zmq.Dealer; stdin: zmq.Dealer; iopub: zmq.Subscriber };
  private readonly pending = new Map<string, PendingRequest>();
  private readonly listeners = new Set<(msg: Received) => void>();
  private readonly sendQueues = new Map<RequestChannel, Promise<unknown>>();
  private seq = 0;
  private closed = false;
  /**
   * Fraction digits of header dates: 3 as VS Code and JupyterLab stamp them, 6 as jupyter_client
   * (nbclient, papermill, the console) does.
   */
  dateDigits: 3 | 6 = 3;

  constructor(
    readonly info: ConnectionInfo,
    private readonly owned: { kernel?: KernelProcess; dir?: string } = {},
    options: { session?: string } = {},
  ) {
    this.session = options.session ?? randomUUID();
    this.routingId = `tsgpu-test-${this.session}`;
    this.sign = makeSigner(info.signature_scheme, info.key);
    this.sockets = {
      shell: new zmq.Dealer({ linger: 0, routingId: this.routingId }),
      control: new zmq.Dealer({ linger: 0 }),
      stdin: new zmq.Dealer({ linger: 0, routingId: this.routingId }),
      iopub: new zmq.Subscriber({ linger: 0 }),
    };
    this.sockets.iopub.subscribe();
    for (const [channel, socket] of Object.entries(this.sockets) as [Channel, zmq.Dealer | zmq.Subscriber][]) {
      socket.connect(this.url(this.portOf(channel)));
      void this.readLoop(channel, socket);
    }
  }

  get kernel(): KernelProcess | undefined {
    return this.owned.kernel;
  }

  /** The kernel's pid (only for kernels this client launched). */
  get pid(): number {
    if (this.owned.kernel === undefined) throw new Error('this client did not launch its kernel');
    return this.owned.kernel.pid;
  }

  makeMessage(msgType: string, content: Record<string, unknown> = {}): OutgoingMessage {
    return {
      header: {
        msg_id: randomUUID(),
        session: this.session,
        username: 'tsgpu-protocol-test',
        date: this.dateDigits === 6 ? microsecondDate() : new Date().toISOString(),
        msg_type: msgType,
        version: '5.3',
      },
      parent_header: {},
      metadata: {},
      content,
    };
  }

  frames(msg: OutgoingMessage, signature?: string): Buffer[] {
    return encodeFrames(msg, this.sign, signature);
  }

  /** Sends frames as they are (malformed-message tests); zeromq 6 allows one send at a time per socket. */
  sendFrames(channel: RequestChannel, frames: readonly (Buffer | string)[]): Promise<void> {
    const socket = this.sockets[channel];
    const previous = this.sendQueues.get(channel) ?? Promise.resolve();
    const next = previous.then(() => socket.send([...frames]));
    this.sendQueues.set(channel, next.catch(() => undefined));
    return next;
  }

  /** Starts collecting the reply and iopub messages of `msg` (call before sending it). */
  track(msg: OutgoingMessage, channel: RequestChannel, timeoutMs = DEFAULT_TIMEOUT_MS): PendingRequest {
    const pending = new PendingRequest(msg, channel, Date.now() + timeoutMs, () => this.context());
    this.pending.set(msg.header.msg_id, pending);
    return pending;
  }

  send(
    channel: RequestChannel,
    msgType: string,
    content: Record<string, unknown> = {},
    options: RequestOptions = {},
  ): PendingRequest {
    const msg = this.makeMessage(msgType, content);
    const pending = this.track(msg, channel, options.timeoutMs);
    this.sendFrames(channel, this.frames(msg, options.signature)).catch((error: unknown) => {
      pending.fail(`send failed: ${String(error)}`);
    });
    return pending;
  }

  request(
    channel: RequestChannel,
    msgType: string,
    content: Record<string, unknown> = {},
    options: RequestOptions = {},
  ): Promise<Exchange> {
    return this.send(channel, msgType, content, options).done(options.waitIdle ?? true);
  }

  startExecute(code: string, execute: ExecuteOptions = {}, options: RequestOptions = {}): PendingRequest {
    return this.send('shell', 'execute_request', executeContent(code, execute), options);
  }

  execute(code: string, execute: ExecuteOptions = {}, options: RequestOptions = {}): Promise<Exchange> {
    return this.startExecute(code, execute, options).done(options.waitIdle ?? true);
  }

  /**
   * Retries kernel_info until both the reply and iopub idle arrive: a SUB socket misses what is
   * published before its subscription reaches the kernel (ZeroMQ's slow joiner). A reply whose
   * idle does not follow within 250 ms means exactly that, so the next try starts at once.
   */
  async waitReady(totalMs = 30_000): Promise<Exchange> {
    const deadline = Date.now() + totalMs;
    let tries = 0;
    let last = '';
    while (Date.now() < deadline) {
      tries++;
      const exit = this.owned.kernel?.child.exitCode ?? this.owned.kernel?.child.signalCode;
      if (exit !== null && exit !== undefined) throw new Error(`kernel exited (${exit}) before it was ready${this.context()}`);
      const attempt = this.send('shell', 'kernel_info_request', {}, { timeoutMs: 2000 });
      try {
        await attempt.replied();
        const done = attempt.done().catch((error: unknown) => {
          last = (error as Error).message;
          return undefined;
        });
        const exchange = await within(done, 250);
        if (exchange !== undefined && exchange !== TIMED_OUT) return exchange;
      } catch (error) {
        last = (error as Error).message;
      }
    }
    throw new Error(`kernel not ready after ${totalMs} ms (${tries} kernel_info tries); last: ${last}`);
  }

  /** One heartbeat round trip: the kernel's REP must echo every frame. */
  async heartbeat(timeoutMs = 5000, payload: string[] = [`ping-${randomUUID()}`]): Promise<{ ms: number; echo: string[] }> {
    const socket = new zmq.Request({ linger: 0, receiveTimeout: timeoutMs, sendTimeout: timeoutMs });
    socket.connect(this.url(this.info.hb_port));
    const started = performance.now();
    try {
      await socket.send(payload);
      const echo = await socket.receive();
      return { ms: performance.now() - started, echo: echo.map((f) => f.toString()) };
    } catch (error) {
      throw new Error(`heartbeat: no echo within ${timeoutMs} ms (${(error as Error).message})`);
    } finally {
      socket.close();
    }
  }

  /**
   * Answers an input_request the way a notebook does once the user presses Enter: input_reply
   * {value} on stdin, with the input_request as parent.
   */
  answerInput(inputRequest: Received, value: string): Promise<void> {
    assert.equal(inputRequest.channel, 'stdin', 'answer only input_requests from stdin');
    assert.equal(inputRequest.header.msg_type, 'input_request');
    const msg = this.makeMessage('input_reply', { value });
    msg.parent_header = { ...inputRequest.header };
    return this.sendFrames('stdin', this.frames(msg));
  }

  /** All messages (replies and iopub) whose parent is `msgId`. */
  messagesFor(msgId: string): Received[] {
    return this.received.filter((m) => isPlainObject(m.parent_header) && m.parent_header['msg_id'] === msgId);
  }

  /** First message (already received or arriving within `timeoutMs`) that satisfies `test`. */
  waitForMessage(what: string, test: (msg: Received) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Received> {
    const found = this.received.find(test);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const listener = (msg: Received): void => {
        if (!test(msg)) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(msg);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`no ${what} within ${timeoutMs} ms${this.context()}`));
      }, timeoutMs);
      this.listeners.add(listener);
    });
  }

  /** Sends a signal to the kernel process (SIGINT for signal interrupts). */
  signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }

  /** The kernel's exit status, or a sentence saying it still runs after `ms`. */
  async waitForExit(ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | string> {
    const exit = await within(this.kernel?.exited ?? Promise.reject(new Error('not launched by this client')), ms);
    return exit === TIMED_OUT ? `still running after ${ms} ms` : exit;
  }

  kernelOutput(): string {
    return this.owned.kernel?.output() ?? '';
  }

  /** Closes the sockets, SIGKILLs the kernel if it still runs, removes the temp dir. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const pending of this.pending.values()) pending.cancel('client closed');
    for (const socket of Object.values(this.sockets)) socket.close();
    const kernel = this.owned.kernel;
    if (kernel !== undefined) {
      killIfRunning(kernel.pid);
      await within(kernel.exited, 5000);
    }
    if (this.owned.dir !== undefined) await rm(this.owned.dir, { recursive: true, force: true });
  }

  private portOf(channel: Channel): number {
    return { shell: this.info.shell_port, control: this.info.control_port, stdin: this.info.stdin_port,
      iopub: this.info.iopub_port }[channel];
  }

  private url(port: number): string {
    return `${this.info.transport}://${this.info.ip}:${port}`;
  }

  private context(): string {
    const output = this.kernelOutput().trim();
    return output === '' ? '' : `\n--- kernel output (tail) ---\n${output.slice(-2000)}`;
  }

  private async readLoop(channel: Channel, socket: zmq.Dealer | zmq.Subscriber): Promise<void> {
    try {
      for await (const frames of socket) this.onFrames(channel, frames);
    } catch (error) {
      if (!this.closed) this.problems.push(`${channel} socket failed: ${String(error)}`);
    }
  }

  private onFrames(channel: Channel, frames: Buffer[]): void {
    const decoded = decodeFrames(frames, this.sign);
    if (!decoded.ok) {
      this.problems.push(`${channel}: unreadable message from the kernel (${decoded.reason})`);
      return;
    }
    const problems = validateMessage(decoded.message);
    // Cast after validation: an invalid message is still recorded, and its problems fail the test.
    const msg = { ...decoded.message, channel, seq: ++this.seq, receivedAt: performance.now(),
      buffers: decoded.buffers } as Received;
    this.received.push(msg);
    const parentId = isPlainObject(msg.parent_header) ? msg.parent_header['msg_id'] : undefined;
    const pending = typeof parentId === 'string' ? this.pending.get(parentId) : undefined;
    if (problems.length > 0) {
      const text = `${channel} ${describeMessage(msg)}:\n  - ${problems.join('\n  - ')}`;
      this.problems.push(text);
      pending?.fail(text);
    }
    pending?.accept(msg);
    for (const listener of [...this.listeners]) listener(msg);
  }
}

/** Now as an ISO date with microseconds, from the monotonic clock so dates never go back. */
function microsecondDate(): string {
  const now = performance.timeOrigin + performance.now();
  const wholeMs = Math.floor(now);
  const micros = Math.floor((now - wholeMs) * 1000);
  return new Date(wholeMs).toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`);
}

export interface StartOptions {
  /** HMAC key for the connection file; '' starts an unsigned kernel. Default: 32 random bytes. */
  key?: string;
  readyTimeoutMs?: number;
  /** The kernel process's working directory (where a notebook's imports resolve from); a fresh temp dir by default. */
  cwd?: string;
  /** Extra environment variables for the kernel process (on top of this process's). */
  env?: Record<string, string>;
}

/** Temp dir + connection file + kernel process + ready client. */
/** Tries at start: ports found free can be taken by another process before the kernel binds them. */
const START_TRIES = 3;

export async function startKernel(options: StartOptions = {}): Promise<KernelClient> {
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(path.join(tmpdir(), 'tsgpu-protocol-'));
    const { file, info } = await writeConnectionFile(dir, options.key === undefined ? {} : { key: options.key });
    // By default the kernel runs in the temp dir, as in a notebook's own folder: the project's
    // tsconfig.json (strict, noUnusedLocals) would otherwise set the checker's options.
    const kernel = launchKernel(file, {
      cwd: options.cwd ?? dir,
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    const client = new KernelClient(info, { kernel, dir });
    try {
      await client.waitReady(options.readyTimeoutMs);
      return client;
    } catch (error) {
      await client.close();
      // The kernel said so and exited (the ports are the connection file's to choose): again, with new ports.
      if (attempt < START_TRIES && /Address already in use/.test(String((error as Error).message))) continue;
      throw error;
    }
  }
}
