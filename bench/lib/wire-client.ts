// A small, kernel-agnostic Jupyter wire-protocol client for the benchmarks (zeromq v6 Dealer /
// Subscriber, HMAC-SHA256). Independent of the kernel's own code and of test/support on purpose:
// the benchmarks measure any kernel the same way.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Dealer, Subscriber } from 'zeromq';

export type Channel = 'shell' | 'control' | 'iopub';

export interface ConnectionInfo {
  transport: 'tcp';
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: 'hmac-sha256';
  kernel_name: string;
}

export interface Header {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

export interface Message {
  channel: Channel;
  header: Header;
  parent_header: Partial<Header>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
  buffers: Buffer[];
}

const DELIMITER = '<IDS|MSG>';

/** n distinct free TCP ports on 127.0.0.1 (all held open at once, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => resolve());
      });
      ports.push((srv.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** Write a fresh connection file into dir; returns its path and contents. */
export async function writeConnectionFile(dir: string, kernelName: string): Promise<{ file: string; info: ConnectionInfo }> {
  const [shell, iopub, stdin, control, hb] = await freePorts(5);
  const info: ConnectionInfo = {
    transport: 'tcp',
    ip: '127.0.0.1',
    shell_port: shell,
    iopub_port: iopub,
    stdin_port: stdin,
    control_port: control,
    hb_port: hb,
    key: randomUUID(),
    signature_scheme: 'hmac-sha256',
    kernel_name: kernelName,
  };
  const file = path.join(dir, `kernel-${randomUUID()}.json`);
  fs.writeFileSync(file, JSON.stringify(info, null, 2), { mode: 0o600 });
  return { file, info };
}

interface Waiter {
  channel: Channel;
  match: (m: Message) => boolean;
  resolve: (m: Message) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** Sends serialised per socket (zeromq v6 allows one send in flight per socket). */
class SendQueue {
  private tail: Promise<void> = Promise.resolve();
  constructor(private readonly socket: Dealer) {}
  send(frames: Buffer[]): Promise<void> {
    const next = this.tail.then(() => this.socket.send(frames));
    this.tail = next.catch(() => undefined);
    return next;
  }
}

export class WireClient {
  readonly session = randomUUID();
  badSignatures = 0;
  private readonly shell: Dealer;
  private readonly control: Dealer;
  private readonly iopub: Subscriber;
  private readonly shellQ: SendQueue;
  private readonly controlQ: SendQueue;
  private waiters: Waiter[] = [];
  private closed = false;

  constructor(private readonly info: ConnectionInfo) {
    // A short reconnect interval: cold-start timing should not be quantised by zmq's 100 ms default.
    const opts = { linger: 0, reconnectInterval: 10 };
    this.shell = new Dealer({ ...opts, routingId: `${this.session}-shell` });
    this.control = new Dealer({ ...opts, routingId: `${this.session}-control` });
    this.iopub = new Subscriber(opts);
    this.shellQ = new SendQueue(this.shell);
    this.controlQ = new SendQueue(this.control);
  }

  private addr(port: number): string {
    return `${this.info.transport}://${this.info.ip}:${port}`;
  }

  connect(): void {
    this.shell.connect(this.addr(this.info.shell_port));
    this.control.connect(this.addr(this.info.control_port));
    this.iopub.subscribe();
    this.iopub.connect(this.addr(this.info.iopub_port));
    void this.pump('shell', this.shell);
    void this.pump('control', this.control);
    void this.pump('iopub', this.iopub);
  }

  private async pump(channel: Channel, socket: Dealer | Subscriber): Promise<void> {
    try {
      for await (const frames of socket) {
        const msg = this.decode(channel, frames);
        if (!msg) continue;
        const hit = this.waiters.findIndex((w) => w.channel === channel && w.match(msg));
        if (hit >= 0) {
          const [w] = this.waiters.splice(hit, 1);
          w.resolve(msg);
        }
      }
    } catch (err) {
      if (!this.closed) process.stderr.write(`wire-client: ${channel} receive failed: ${String(err)}\n`);
    }
  }

  private sign(parts: Buffer[]): string {
    if (!this.info.key) return '';
    const h = createHmac('sha256', this.info.key);
    for (const p of parts) h.update(p);
    return h.digest('hex');
  }

  private decode(channel: Channel, frames: Buffer[]): Message | null {
    const i = frames.findIndex((f) => f.length === DELIMITER.length && f.toString('latin1') === DELIMITER);
    if (i < 0 || frames.length < i + 6) return null;
    const sig = frames[i + 1].toString('latin1');
    const parts = frames.slice(i + 2, i + 6);
    const want = this.sign(parts);
    if (this.info.key && (sig.length !== want.length || !timingSafeEqual(Buffer.from(sig), Buffer.from(want)))) {
      this.badSignatures++;
      return null;
    }
    const [header, parent, metadata, content] = parts.map((p) => JSON.parse(p.toString('utf8')) as unknown);
    return {
      channel,
      header: header as Header,
      parent_header: parent as Partial<Header>,
      metadata: metadata as Record<string, unknown>,
      content: content as Record<string, unknown>,
      buffers: frames.slice(i + 6),
    };
  }

  /** Resolves with the first message on channel that matches (register before sending). */
  waitFor(channel: Channel, match: (m: Message) => boolean, timeoutMs: number, what = 'message'): Promise<Message> {
    const p = new Promise<Message>((resolve, reject) => {
      const w: Waiter = {
        channel,
        match,
        resolve: (m) => { clearTimeout(w.timer); resolve(m); },
        reject: (err) => { clearTimeout(w.timer); reject(err); },
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} on ${channel}`));
        }, timeoutMs),
      };
      this.waiters.push(w);
    });
    // Callers that stop waiting early (another await failed first) must not leave an unhandled rejection.
    p.catch(() => undefined);
    return p;
  }

  /** Sign and send a request; returns its msg_id. */
  send(channel: 'shell' | 'control', msgType: string, content: Record<string, unknown>): string {
    const header: Header = {
      msg_id: randomUUID(),
      session: this.session,
      username: 'bench',
      date: new Date().toISOString(),
      msg_type: msgType,
      version: '5.3',
    };
    const parts = [header, {}, {}, content].map((o) => Buffer.from(JSON.stringify(o), 'utf8'));
    const frames = [Buffer.from(DELIMITER, 'latin1'), Buffer.from(this.sign(parts), 'latin1'), ...parts];
    const q = channel === 'shell' ? this.shellQ : this.controlQ;
    q.send(frames).catch((err: unknown) => {
      if (!this.closed) process.stderr.write(`wire-client: ${channel} send failed: ${String(err)}\n`);
    });
    return header.msg_id;
  }

  /**
   * Execute code; resolves when both the execute_reply and the iopub status idle for it have arrived.
   * Returns the reply and every iopub message of that request (through idle).
   */
  async execute(code: string, timeoutMs = 30_000): Promise<{ reply: Message; iopub: Message[] }> {
    const id = { v: '' };
    const iopub: Message[] = [];
    const idle = this.waitFor('iopub', (m) => {
      if (m.parent_header.msg_id !== id.v) return false;
      iopub.push(m);
      return m.header.msg_type === 'status' && m.content.execution_state === 'idle';
    }, timeoutMs, 'execute idle');
    const reply = this.waitFor('shell', (m) => m.parent_header.msg_id === id.v && m.header.msg_type === 'execute_reply',
      timeoutMs, 'execute_reply');
    id.v = this.send('shell', 'execute_request', {
      code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true,
    });
    const [r] = await Promise.all([reply, idle]);
    return { reply: r, iopub };
  }

  /** Send kernel_info_request every intervalMs until a reply (and, if wanted, its iopub idle) arrives. */
  async kernelInfoUntilAnswered(opts: { intervalMs: number; timeoutMs: number; needIopubIdle: boolean }): Promise<Message> {
    const sent = new Set<string>();
    const reply = this.waitFor('shell', (m) => m.header.msg_type === 'kernel_info_reply' && sent.has(m.parent_header.msg_id ?? ''),
      opts.timeoutMs, 'kernel_info_reply');
    const idle = opts.needIopubIdle
      ? this.waitFor('iopub', (m) => m.header.msg_type === 'status' && m.content.execution_state === 'idle' &&
        sent.has(m.parent_header.msg_id ?? ''), opts.timeoutMs, 'iopub idle after kernel_info')
      : Promise.resolve(null);
    const resend = (): void => { sent.add(this.send('shell', 'kernel_info_request', {})); };
    resend();
    const timer = setInterval(resend, opts.intervalMs);
    try {
      const [r] = await Promise.all([reply, idle]);
      return r;
    } finally {
      clearInterval(timer);
    }
  }

  close(): void {
    this.closed = true;
    const pending = this.waiters;
    this.waiters = [];
    for (const w of pending) w.reject(new Error('client closed'));
    for (const s of [this.shell, this.control, this.iopub]) {
      try { s.close(); } catch { /* already closed */ }
    }
  }
}
