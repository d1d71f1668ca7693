// What VS Code's Jupyter extension does with a kernel it launched itself: no Jupyter server, the
// kernel's ZeroMQ sockets wrapped in a WebSocket-like object, so that @jupyterlab/services'
// KernelConnection can drive the kernel unchanged. The object carries message objects (an
// identity serializer, protocol '' = "legacy"); each message's `channel` picks the socket.
// Everything the kernel sends is signature-checked and validated against the 5.3 spec; problems
// are kept in `problems` for the test to assert empty.
import { randomUUID } from 'node:crypto';
import * as zmq from 'zeromq';
import type { ConnectionInfo } from './connection-file';
import { describeMessage, RawMessage, validateMessage } from './message-schema';
import { decodeFrames, encodeFrames, makeSigner, OutgoingMessage, Signer } from './wire-sign';

export type RawChannel = 'shell' | 'control' | 'stdin' | 'iopub';

/** A message as KernelConnection sends and receives it: the four parts, buffers, and its channel. */
export interface ChannelMessage extends RawMessage {
  channel: RawChannel;
  buffers?: unknown[];
}

type Listener = (message: ChannelMessage) => void;

/** The kernel's four message sockets, signed and verified with the connection file's key. */
export class RawZmqLink {
  readonly problems: string[] = [];
  readonly listeners = new Set<Listener>();
  /** Shell and stdin share a routing id, as jupyter_client does: input_request goes to the shell's sender. */
  readonly routingId = `tsgpu-raw-${randomUUID()}`;
  private readonly sign: Signer;
  private readonly sockets: { shell: zmq.Dealer; control: zmq.Dealer; stdin: zmq.Dealer; iopub: zmq.Subscriber };
  private readonly sendQueues = new Map<RawChannel, Promise<unknown>>();
  private closed = false;

  constructor(readonly info: ConnectionInfo) {
    this.sign = makeSigner(info.signature_scheme, info.key);
    this.sockets = {
      shell: new zmq.Dealer({ linger: 0, routingId: this.routingId }),
      control: new zmq.Dealer({ linger: 0 }),
      stdin: new zmq.Dealer({ linger: 0, routingId: this.routingId }),
      iopub: new zmq.Subscriber({ linger: 0 }),
    };
    this.sockets.iopub.subscribe();
    const ports: Record<RawChannel, number> = { shell: info.shell_port, control: info.control_port, stdin: info.stdin_port, iopub: info.iopub_port };
    for (const channel of Object.keys(this.sockets) as RawChannel[]) {
      const socket = this.sockets[channel];
      socket.connect(`${info.transport}://${info.ip}:${ports[channel]}`);
      void this.readLoop(channel, socket);
    }
  }

  /** Signs and sends a message on its channel (one send at a time per socket, as zeromq 6 requires). */
  send(message: ChannelMessage): Promise<void> {
    const { channel } = message;
    if (channel === 'iopub') return Promise.reject(new Error('cannot send on iopub'));
    const frames = encodeFrames(message as unknown as OutgoingMessage, this.sign);
    const socket = this.sockets[channel];
    const next = (this.sendQueues.get(channel) ?? Promise.resolve()).then(() => socket.send(frames));
    this.sendQueues.set(channel, next.catch(() => undefined));
    return next;
  }

  /**
   * Retries kernel_info until both its reply and an iopub idle arrive: the SUB socket misses what
   * the kernel publishes before the subscription reaches it (ZeroMQ's slow joiner).
   */
  async waitReady(totalMs: number, exited: () => string | null): Promise<void> {
    const deadline = Date.now() + totalMs;
    while (Date.now() < deadline) {
      const exit = exited();
      if (exit !== null) throw new Error(`the kernel exited (${exit}) before it was ready`);
      const msgId = randomUUID();
      const answered = new Promise<boolean>((resolve) => {
        let reply = false;
        let idle = false;
        const timer = setTimeout(() => { this.listeners.delete(listener); resolve(false); }, 1000);
        const listener: Listener = (message) => {
          if ((message.parent_header as { msg_id?: unknown }).msg_id !== msgId) return;
          if (message.channel === 'shell') reply = true;
          if (message.channel === 'iopub' && (message.content as { execution_state?: unknown }).execution_state === 'idle') idle = true;
          if (reply && idle) {
            clearTimeout(timer);
            this.listeners.delete(listener);
            resolve(true);
          }
        };
        this.listeners.add(listener);
      });
      await this.send({
        channel: 'shell',
        header: { msg_id: msgId, msg_type: 'kernel_info_request', session: this.routingId, username: 'vscode-style', date: new Date().toISOString(), version: '5.3' },
        parent_header: {}, metadata: {}, content: {},
      });
      if (await answered) return;
    }
    throw new Error(`the kernel did not answer kernel_info (reply and iopub idle) within ${totalMs} ms`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    for (const socket of Object.values(this.sockets)) socket.close();
  }

  private async readLoop(channel: RawChannel, socket: zmq.Dealer | zmq.Subscriber): Promise<void> {
    try {
      for await (const frames of socket) {
        const decoded = decodeFrames(frames, this.sign);
        if (!decoded.ok) {
          this.problems.push(`${channel}: unreadable message from the kernel (${decoded.reason})`);
          continue;
        }
        const problems = validateMessage(decoded.message);
        if (problems.length > 0) this.problems.push(`${channel} ${describeMessage(decoded.message)}:\n  - ${problems.join('\n  - ')}`);
        const message: ChannelMessage = { ...decoded.message, channel, buffers: decoded.buffers };
        for (const listener of [...this.listeners]) listener(message);
      }
    } catch (error) {
      if (!this.closed) this.problems.push(`${channel} socket failed: ${String(error)}`);
    }
  }
}

interface SocketEvent {
  target?: unknown;
  data?: unknown;
  code?: number;
  reason?: string;
  wasClean?: boolean;
}

/**
 * A class to pass as ServerConnection settings' `WebSocket`: KernelConnection constructs it with
 * the channels URL, sets its on* handlers, sends message objects and receives them in `data`.
 * Opening is immediate (the link is ready before the KernelConnection exists).
 */
export function rawWebSocketClass(link: RawZmqLink): new (url: string, protocols?: string | string[]) => object {
  return class RawZmqWebSocket {
    static readonly CONNECTING = 0;
    static readonly OPEN = 1;
    static readonly CLOSING = 2;
    static readonly CLOSED = 3;
    /** '' selects the legacy (JSON) protocol, so the identity serializer sees message objects. */
    readonly protocol = '';
    binaryType = 'arraybuffer';
    readyState = 0;
    onopen: ((event: SocketEvent) => void) | null = null;
    onmessage: ((event: SocketEvent) => void) | null = null;
    onclose: ((event: SocketEvent) => void) | null = null;
    onerror: ((event: SocketEvent) => void) | null = null;
    private readonly listener: Listener;

    constructor(readonly url: string, _protocols?: string | string[]) {
      this.listener = (message) => {
        if (this.readyState === 1) this.onmessage?.({ target: this, data: message });
      };
      link.listeners.add(this.listener);
      setImmediate(() => {
        if (this.readyState !== 0) return;
        this.readyState = 1;
        this.onopen?.({ target: this });
      });
    }

    send(data: unknown): void {
      link.send(data as ChannelMessage).catch((error: unknown) => this.onerror?.({ target: this, reason: String(error) }));
    }

    close(code = 1000, reason = ''): void {
      if (this.readyState >= 2) return;
      this.readyState = 3;
      link.listeners.delete(this.listener);
      this.onclose?.({ target: this, code, reason, wasClean: true });
    }
  };
}

/** Messages pass through as objects (the raw socket needs no JSON or binary framing). */
export const identitySerializer = {
  serialize: (message: unknown): string => message as string,
  deserialize: <T>(data: unknown): T => data as T,
};
