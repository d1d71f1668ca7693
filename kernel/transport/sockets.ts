// The five ZeroMQ sockets of a kernel, bound to the connection file's endpoints only.
// zeromq v6 allows one send in flight per socket (a second throws EBUSY), so every socket sends
// through its own queue: under load nothing is dropped and order is kept.
import * as zmq from 'zeromq';
import { log } from '../log';
import { type ConnectionInfo, endpoint } from './connection-file';

export type RequestChannel = 'shell' | 'control' | 'stdin';

class SendQueue {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly socket: zmq.Writable & zmq.Socket, private readonly name: string) {}

  send(frames: Buffer[]): Promise<void> {
    this.tail = this.tail.then(() => this.socket.send(frames)).catch((error: unknown) => {
      if (!this.socket.closed) log(`${this.name}: send failed: ${(error as Error).message}`);
    });
    return this.tail;
  }

  /** Resolves once everything queued so far has been handed to ZeroMQ. */
  drained(): Promise<void> {
    return this.tail;
  }
}

/** How long closing waits for the receive loops' reads to settle. */
const CLOSE_SETTLE_MS = 200;

export class KernelSockets {
  /** The receive and heartbeat loops: closing waits for their pending reads. */
  private readonly loops: Promise<void>[] = [];
  // jupyter_client names a client's shell, control and stdin sockets after its session, so two
  // clients of one KernelManager (`km.client()` twice) connect under one name. A ROUTER refuses the
  // second by default, silently: its requests got no reply. Handed over, the newest connection is
  // the one answered (ipykernel sets the same).
  private readonly shell = new zmq.Router({ linger: 1000, handover: true });
  private readonly control = new zmq.Router({ linger: 1000, handover: true });
  private readonly stdin = new zmq.Router({ linger: 1000, handover: true });
  // Output bursts (a cell printing megabytes) must queue, not be dropped at the default HWM of 1000.
  private readonly iopub = new zmq.Publisher({ linger: 1000, sendHighWaterMark: 100_000 });
  private readonly heartbeat = new zmq.Reply({ linger: 0 });
  private readonly queues: Record<RequestChannel | 'iopub', SendQueue> = {
    shell: new SendQueue(this.shell, 'shell'),
    control: new SendQueue(this.control, 'control'),
    stdin: new SendQueue(this.stdin, 'stdin'),
    iopub: new SendQueue(this.iopub, 'iopub'),
  };

  constructor(private readonly info: ConnectionInfo) {}

  async bind(): Promise<void> {
    await Promise.all([
      this.shell.bind(endpoint(this.info, 'shell_port')),
      this.control.bind(endpoint(this.info, 'control_port')),
      this.stdin.bind(endpoint(this.info, 'stdin_port')),
      this.iopub.bind(endpoint(this.info, 'iopub_port')),
      this.heartbeat.bind(endpoint(this.info, 'hb_port')),
    ]);
  }

  /** Starts the receive loops; `onMessage` gets each multipart message as raw frames. */
  listen(onMessage: (channel: RequestChannel, frames: Buffer[]) => void): void {
    for (const channel of ['shell', 'control', 'stdin'] as const) this.loops.push(this.receiveLoop(channel, onMessage));
    this.loops.push(this.echoHeartbeats());
  }

  send(channel: RequestChannel | 'iopub', frames: Buffer[]): Promise<void> {
    return this.queues[channel].send(frames);
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((queue) => queue.drained()));
    for (const socket of [this.shell, this.control, this.stdin, this.iopub, this.heartbeat]) socket.close();
    // The receive loops' pending reads settle (rejected by the close) before the process may end:
    // zeromq settling one while the thread is torn down throws from native code and aborts the
    // process ("terminate called after throwing an instance of 'Napi::Error'", seen once in a
    // shutdown right after an interrupt). Bounded, so a loop that never settles cannot hold exit.
    await Promise.race([Promise.allSettled(this.loops), new Promise((resolve) => setTimeout(resolve, CLOSE_SETTLE_MS).unref())]);
  }

  private async receiveLoop(channel: RequestChannel, onMessage: (channel: RequestChannel, frames: Buffer[]) => void): Promise<void> {
    const socket = this[channel];
    while (!socket.closed) {
      try {
        for await (const frames of socket) {
          try {
            onMessage(channel, frames);
          } catch (error) {
            // No message, however malformed, may end a channel's loop.
            log(`${channel}: dropped a message that broke its handler: ${(error as Error).stack ?? String(error)}`);
          }
        }
      } catch (error) {
        if (!socket.closed) log(`${channel}: receive failed, continuing: ${(error as Error).message}`);
      }
    }
  }

  private async echoHeartbeats(): Promise<void> {
    while (!this.heartbeat.closed) {
      try {
        for await (const frames of this.heartbeat) await this.heartbeat.send(frames);
      } catch (error) {
        if (!this.heartbeat.closed) log(`heartbeat: ${(error as Error).message}`);
      }
    }
  }
}
