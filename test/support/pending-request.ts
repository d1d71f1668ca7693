// One request in flight: collects its reply and the iopub messages whose parent it is, and lets a
// test wait for either, always with a deadline (a kernel that drops a message looks like a hang).
import type { JupyterMessage } from './message-schema';
import type { OutgoingMessage } from './wire-sign';

export type Channel = 'shell' | 'control' | 'stdin' | 'iopub';
export type RequestChannel = Exclude<Channel, 'iopub'>;

export interface Received extends JupyterMessage {
  channel: Channel;
  /** Arrival order across all sockets of one client. */
  seq: number;
  /** performance.now() at arrival. */
  receivedAt: number;
  buffers: Buffer[];
}

export interface Exchange {
  request: OutgoingMessage;
  reply: Received;
  /** iopub messages for the request, up to and including status idle. */
  iopub: Received[];
}

interface Waiter {
  poll(): boolean;
  fail(reason: string): void;
}

export function brief(msg: Received): string {
  const state = msg.header.msg_type === 'status' ? `:${String(msg.content['execution_state'])}` : '';
  return `${msg.channel}/${msg.header.msg_type}${state}`;
}

export function isIdle(msg: Received): boolean {
  return msg.channel === 'iopub' && msg.header.msg_type === 'status' && msg.content['execution_state'] === 'idle';
}

export class PendingRequest {
  readonly iopub: Received[] = [];
  readonly replies: Received[] = [];
  /** input_request messages the kernel sent on stdin while this execute_request ran. */
  readonly inputRequests: Received[] = [];
  readonly sentAt = performance.now();
  private readonly waiters = new Set<Waiter>();
  private failure: string | undefined;

  constructor(
    readonly request: OutgoingMessage,
    readonly channel: RequestChannel,
    private readonly deadline: number,
    private readonly context: () => string,
  ) {}

  get msgId(): string {
    return this.request.header.msg_id;
  }

  get reply(): Received | undefined {
    return this.replies[0];
  }

  accept(msg: Received): void {
    if (msg.channel === 'iopub') {
      this.iopub.push(msg);
    } else if (msg.channel === 'stdin' && msg.header.msg_type === 'input_request') {
      this.inputRequests.push(msg);
      if (this.request.header.msg_type !== 'execute_request') {
        this.fail(`input_request for a ${this.request.header.msg_type}; only a running cell may ask for input`);
      }
    } else {
      this.replies.push(msg);
      const expected = this.request.header.msg_type.replace(/_request$/, '_reply');
      if (msg.channel !== this.channel || msg.header.msg_type !== expected) {
        this.fail(`expected ${this.channel}/${expected}, got ${brief(msg)}`);
      }
    }
    this.poll();
  }

  /** An invalid message for this request fails every current and future wait on it. */
  fail(problem: string): void {
    this.failure ??= problem;
    this.poll();
  }

  /** Rejects outstanding waits now (client closing). */
  cancel(reason: string): void {
    for (const waiter of [...this.waiters]) waiter.fail(reason);
  }

  replied(): Promise<Received> {
    return this.waitFor('reply', () => this.reply);
  }

  /** Resolves with the iopub messages up to and including status idle. */
  idle(): Promise<Received[]> {
    return this.waitFor('iopub status idle', () => {
      const at = this.iopub.findIndex(isIdle);
      return at < 0 ? undefined : this.iopub.slice(0, at + 1);
    });
  }

  /** The `index`-th input_request (0: the first) the kernel sent on stdin for this request. */
  inputRequest(index = 0): Promise<Received> {
    return this.waitFor(`stdin input_request #${index + 1}`, () => this.inputRequests[index]);
  }

  iopubMessage(msgType: string): Promise<Received> {
    return this.waitFor(`iopub ${msgType}`, () => this.iopub.find((m) => m.header.msg_type === msgType));
  }

  /** The first iopub message `match` accepts; `what` names it in a timeout's message. */
  iopubWhere(what: string, match: (message: Received) => boolean): Promise<Received> {
    return this.waitFor(`iopub ${what}`, () => this.iopub.find(match));
  }

  /** Reply and (unless waitIdle is false) status idle. */
  done(waitIdle = true): Promise<Exchange> {
    return this.waitFor(waitIdle ? 'reply and iopub idle' : 'reply', () => {
      const reply = this.reply;
      if (reply === undefined) return undefined;
      if (!waitIdle) return { request: this.request, reply, iopub: [...this.iopub] };
      const at = this.iopub.findIndex(isIdle);
      return at < 0 ? undefined : { request: this.request, reply, iopub: this.iopub.slice(0, at + 1) };
    });
  }

  private poll(): void {
    for (const waiter of [...this.waiters]) waiter.poll();
  }

  private waitFor<T>(what: string, ready: () => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const remove = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const describe = (reason: string): Error => {
        const seen = [...this.replies, ...this.inputRequests, ...this.iopub].sort((a, b) => a.seq - b.seq).map(brief).join(', ') || 'nothing';
        const { msg_type, msg_id } = this.request.header;
        return new Error(`${msg_type} on ${this.channel} (${msg_id}): ${reason} while waiting for ${what}; `
          + `received: ${seen}${this.context()}`);
      };
      const waiter: Waiter = {
        poll: () => {
          if (this.failure !== undefined) {
            remove();
            reject(describe(`invalid message: ${this.failure}`));
            return true;
          }
          const value = ready();
          if (value === undefined) return false;
          remove();
          resolve(value);
          return true;
        },
        fail: (reason) => {
          remove();
          reject(describe(reason));
        },
      };
      const ms = Math.max(0, this.deadline - Date.now());
      const timer = setTimeout(() => waiter.fail(`timed out (${ms} ms)`), ms);
      this.waiters.add(waiter);
      waiter.poll();
    });
  }
}
