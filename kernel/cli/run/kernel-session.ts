// A kernel started for `tsgpu run`, spoken to over ZeroMQ with the same wire code the kernel uses:
// the real protocol, as nbclient and VS Code use it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as zmq from 'zeromq';
import { type JsonObject, type Message, type Session, makeHeader, newSession } from '../../protocol/messages';
import { ReplayGuard } from '../../protocol/replay';
import { Signer } from '../../protocol/sign';
import { decodeMessage, encodeMessage } from '../../protocol/wire';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** How long an interrupted cell may take to stop before the run gives up on the kernel. */
const STOP_GRACE_MS = 30_000;

export interface Reply {
  reply: Message;
  iopub: Message[];
}

export class KernelSession {
  private readonly session: Session = newSession('tsgpu-run');
  private readonly signer: Signer;
  private readonly shell = new zmq.Dealer({ linger: 0 });
  private readonly control = new zmq.Dealer({ linger: 0 });
  private readonly iopub = new zmq.Subscriber({ linger: 0 });
  private readonly listeners = new Set<(channel: 'shell' | 'control' | 'iopub', message: Message) => void>();
  private closed = false;

  private constructor(private readonly child: ChildProcess, private readonly directory: string, key: string, ports: number[]) {
    this.signer = new Signer(key);
    const [shell, iopub, , control] = ports;
    this.shell.connect(`tcp://127.0.0.1:${shell}`);
    this.control.connect(`tcp://127.0.0.1:${control}`);
    this.iopub.connect(`tcp://127.0.0.1:${iopub}`);
    this.iopub.subscribe();
    void this.listen('shell', this.shell);
    void this.listen('control', this.control);
    void this.listen('iopub', this.iopub);
  }

  /** Starts `tsgpu kernel` with a fresh connection file; `cwd` is where the notebook lives. */
  static async start(cwd: string, onStderr: (text: string) => void): Promise<KernelSession> {
    const directory = mkdtempSync(path.join(os.tmpdir(), 'tsgpu-run-'));
    const ports: number[] = [];
    while (ports.length < 5) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    const key = randomBytes(32).toString('hex');
    const file = path.join(directory, 'kernel.json');
    const [shell_port, iopub_port, stdin_port, control_port, hb_port] = ports;
    writeFileSync(file, JSON.stringify({ shell_port, iopub_port, stdin_port, control_port, hb_port, ip: '127.0.0.1', transport: 'tcp', key, signature_scheme: 'hmac-sha256' }), { mode: 0o600 });
    const child = spawn(process.execPath, [path.join(__dirname, '..', 'main.js'), 'kernel', file], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.setEncoding('utf8').on('data', onStderr);
    const kernel = new KernelSession(child, directory, key, ports);
    await kernel.waitReady();
    return kernel;
  }

  /** The iopub subscription joins late: ask for kernel_info until its reply and idle both arrive. */
  private async waitReady(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`the kernel exited with code ${this.child.exitCode} while starting`);
      try {
        await this.request('shell', 'kernel_info_request', {}, 1000);
        return;
      } catch {
        // not ready yet
      }
    }
    throw new Error('the kernel did not answer kernel_info within 60 s');
  }

  private async listen(channel: 'shell' | 'control' | 'iopub', socket: zmq.Dealer | zmq.Subscriber): Promise<void> {
    const replay = new ReplayGuard();
    try {
      for await (const frames of socket) {
        const decoded = decodeMessage(frames, this.signer, replay);
        if (!decoded.ok) continue;
        for (const listener of this.listeners) listener(channel, decoded.message);
      }
    } catch {
      // socket closed
    }
  }

  /** Sends a request; resolves with its reply and every iopub message up to its idle. */
  request(channel: 'shell' | 'control', msgType: string, content: JsonObject, timeoutMs: number, onIopub?: (message: Message) => void): Promise<Reply> {
    const header = makeHeader(this.session, msgType);
    const iopub: Message[] = [];
    let reply: Message | null = null;
    let idle = false;
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const timer = setTimeout(() => {
        finish();
        reject(Object.assign(new Error(`no reply to ${msgType} within ${timeoutMs} ms`), { timeout: true }));
      }, timeoutMs);
      const listener = (from: 'shell' | 'control' | 'iopub', message: Message): void => {
        if ((message.parent_header as { msg_id?: string }).msg_id !== header.msg_id) return;
        if (from === 'iopub') {
          iopub.push(message);
          onIopub?.(message);
          if (message.header.msg_type === 'status' && message.content['execution_state'] === 'idle') idle = true;
        } else reply = message;
        if (reply && idle) {
          finish();
          resolve({ reply, iopub });
        }
      };
      this.listeners.add(listener);
      const socket = channel === 'shell' ? this.shell : this.control;
      void socket.send(encodeMessage({ ids: [], header, parent_header: {}, metadata: {}, content }, this.signer));
    });
  }

  /**
   * Runs a cell. Past `timeoutMs` it is interrupted, and its own reply is still awaited (at most
   * STOP_GRACE_MS more): its outputs and error are kept, and nothing is sent to the kernel before
   * it has ended (a request sent earlier would queue behind it, or be aborted by its error).
   */
  async execute(content: JsonObject, timeoutMs: number, onIopub?: (message: Message) => void): Promise<Reply & { timedOut: boolean }> {
    let timedOut = false;
    const running = this.request('shell', 'execute_request', content, timeoutMs + STOP_GRACE_MS, onIopub);
    const timer = setTimeout(() => {
      timedOut = true;
      this.interrupt().catch(() => undefined);
    }, timeoutMs);
    try {
      const reply = await running;
      return { ...reply, timedOut };
    } catch (error) {
      if (!(error as { timeout?: boolean }).timeout) throw error;
      throw new Error(`the cell was interrupted after ${timeoutMs / 1000} s and did not stop within ${STOP_GRACE_MS / 1000} s more`);
    } finally {
      clearTimeout(timer);
    }
  }

  interrupt(): Promise<Reply> {
    return this.request('control', 'interrupt_request', {}, 10_000);
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      if (this.child.exitCode === null) await this.request('control', 'shutdown_request', { restart: false }, 5000);
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    } catch {
      // it may be gone already
    } finally {
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
      for (const socket of [this.shell, this.control, this.iopub]) socket.close();
      rmSync(this.directory, { recursive: true, force: true });
    }
  }

}
