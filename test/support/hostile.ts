// Helpers for the hostile-client suite (test/reliability): fresh kernels for tests that may break
// them, an attacker's own raw connection that sends any frames and records whatever comes back,
// frames signed over exactly the bytes given, probes that report instead of throwing, the kernel's
// resident memory from /proc, and small statistics for the figures each test prints.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { TestContext } from 'node:test';
import * as zmq from 'zeromq';
import type { ConnectionInfo } from './connection-file';
import { type KernelClient, startKernel, type StartOptions } from './kernel-client';
import { okContent } from './message-schema';
import { sleep } from './time';
import { DELIMITER } from './wire-sign';

export const MiB = 1024 * 1024;

/** Start-up deadline for a hostile test's kernel: two shared cores, maybe a busy machine. */
export const HOSTILE_READY_MS = 60_000;

/** Raw links opened on a hostile kernel: closed before it, whatever else fails. */
const linksOf = new WeakMap<KernelClient, Set<RawLink>>();

/**
 * A kernel of this test's own. When the test ends, its raw links and sockets are closed and the
 * process killed first (an open zeromq socket keeps the test process alive), and only then is every
 * message the kernel sent to the user's client checked spec-valid.
 */
export async function hostileKernel(t: TestContext, options: StartOptions = {}): Promise<KernelClient> {
  const kernel = await startKernel({ readyTimeoutMs: HOSTILE_READY_MS, ...options });
  const links = new Set<RawLink>();
  linksOf.set(kernel, links);
  t.after(async () => {
    for (const link of links) link.close();
    await kernel.close();
    assert.deepEqual(kernel.problems, [], 'the kernel sent invalid or badly signed messages to the user\'s client');
  });
  return kernel;
}

export type Part = Buffer | string;

const toBuffer = (part: Part): Buffer => (typeof part === 'string' ? Buffer.from(part) : part);

/** [<IDS|MSG>, signature over `parts` as given, ...parts]: a message signed exactly as sent. */
export function signedFrames(sign: (parts: readonly Buffer[]) => string, parts: readonly Part[]): Buffer[] {
  const buffers = parts.map(toBuffer);
  return [Buffer.from(DELIMITER), Buffer.from(sign(buffers)), ...buffers];
}

export type RawChannel = 'shell' | 'control' | 'stdin' | 'iopub';

export interface RawReceived {
  channel: RawChannel;
  /** The frames as they arrived (a DEALER has already removed its own routing id). */
  frames: Buffer[];
  receivedAt: number;
}

/** The parent_header.msg_id of a raw message from the kernel, when it can be read. */
export function parentIdOf(frames: readonly Buffer[]): string | undefined {
  const at = frames.findIndex((frame) => frame.toString() === DELIMITER);
  const parent = at < 0 ? undefined : frames[at + 3];
  if (parent === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(parent.toString());
    if (typeof value !== 'object' || value === null) return undefined;
    const id = (value as Record<string, unknown>)['msg_id'];
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** header.msg_type of a raw message from the kernel, when it can be read. */
export function msgTypeOf(frames: readonly Buffer[]): string | undefined {
  const at = frames.findIndex((frame) => frame.toString() === DELIMITER);
  const header = at < 0 ? undefined : frames[at + 2];
  if (header === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(header.toString());
    const type = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)['msg_type'] : undefined;
    return typeof type === 'string' ? type : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An attacker's own connection to the kernel's ports: DEALERs for shell, control and stdin (each
 * with its own routing id) and, optionally, a SUB on iopub. It sends frames exactly as given and
 * keeps every multipart message the kernel sends it, unparsed, so nothing about a dropped
 * message can reach it unnoticed.
 */
export class RawLink {
  readonly received: RawReceived[] = [];
  private readonly dealers: Record<'shell' | 'control' | 'stdin', zmq.Dealer>;
  private readonly iopub: zmq.Subscriber | undefined;
  private readonly queues = new Map<string, Promise<unknown>>();
  private closed = false;

  constructor(readonly info: ConnectionInfo, options: { iopub?: boolean } = {}) {
    const url = (port: number): string => `${info.transport}://${info.ip}:${port}`;
    this.dealers = {
      shell: new zmq.Dealer({ linger: 0, routingId: `hostile-shell-${randomUUID()}` }),
      control: new zmq.Dealer({ linger: 0, routingId: `hostile-control-${randomUUID()}` }),
      stdin: new zmq.Dealer({ linger: 0, routingId: `hostile-stdin-${randomUUID()}` }),
    };
    this.dealers.shell.connect(url(info.shell_port));
    this.dealers.control.connect(url(info.control_port));
    this.dealers.stdin.connect(url(info.stdin_port));
    for (const channel of ['shell', 'control', 'stdin'] as const) void this.readLoop(channel, this.dealers[channel]);
    if (options.iopub === true) {
      this.iopub = new zmq.Subscriber({ linger: 0 });
      this.iopub.subscribe();
      this.iopub.connect(url(info.iopub_port));
      void this.readLoop('iopub', this.iopub);
    }
  }

  /** Sends one multipart message; sends on one socket go one at a time (zeromq 6 allows no more). */
  send(channel: 'shell' | 'control' | 'stdin', frames: readonly Part[]): Promise<void> {
    const socket = this.dealers[channel];
    const next = (this.queues.get(channel) ?? Promise.resolve()).then(() => socket.send([...frames]));
    this.queues.set(channel, next.catch(() => undefined));
    return next;
  }

  /** Everything received whose parent is one of `msgIds`. */
  about(msgIds: ReadonlySet<string>): RawReceived[] {
    return this.received.filter((m) => {
      const parent = parentIdOf(m.frames);
      return parent !== undefined && msgIds.has(parent);
    });
  }

  /**
   * Waits until the iopub subscription is live (ZeroMQ's slow joiner): asks `kernel` for
   * kernel_info until this link's SUB has seen something published for one of those requests.
   */
  async subscribed(kernel: KernelClient, totalMs = 15_000): Promise<void> {
    assert.ok(this.iopub !== undefined, 'this link was made without an iopub subscription');
    const deadline = Date.now() + totalMs;
    const ids = new Set<string>();
    while (Date.now() < deadline) {
      const pending = kernel.send('shell', 'kernel_info_request', {}, { timeoutMs: 5000 });
      ids.add(pending.msgId);
      await pending.done().catch(() => undefined);
      await sleep(50);
      if (this.about(ids).some((m) => m.channel === 'iopub')) return;
    }
    assert.fail(`the hostile link's iopub subscription saw nothing within ${totalMs} ms`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const socket of Object.values(this.dealers)) socket.close();
    this.iopub?.close();
  }

  private async readLoop(channel: RawChannel, socket: zmq.Dealer | zmq.Subscriber): Promise<void> {
    try {
      for await (const frames of socket) this.received.push({ channel, frames, receivedAt: performance.now() });
    } catch {
      // Closed by close(); a socket error while open shows up as messages that never arrive.
    }
  }
}

/** A RawLink closed when the test ends (before its kernel, for a hostileKernel). */
export function rawLink(t: TestContext, kernel: KernelClient, options: { iopub?: boolean } = {}): RawLink {
  const link = new RawLink(kernel.info, options);
  const links = linksOf.get(kernel);
  if (links !== undefined) links.add(link);
  else t.after(() => link.close());
  return link;
}

export interface ProbeResult {
  channel: 'shell' | 'control';
  ok: boolean;
  ms: number;
  error?: string;
}

/** kernel_info on one channel: whether its reply (ok) and iopub idle came within `timeoutMs`. */
export async function probe(kernel: KernelClient, channel: 'shell' | 'control', timeoutMs = 10_000): Promise<ProbeResult> {
  const started = performance.now();
  try {
    const exchange = await kernel.request(channel, 'kernel_info_request', {}, { timeoutMs });
    okContent(exchange.reply, 'kernel_info_reply');
    return { channel, ok: true, ms: performance.now() - started };
  } catch (error) {
    return { channel, ok: false, ms: performance.now() - started, error: (error as Error).message.split('\n')[0] ?? '' };
  }
}

/**
 * kernel_info through a RawLink (with iopub): answered when its reply and an iopub status idle for
 * it arrive. For kernels whose iopub may carry messages the user's client cannot parse.
 */
export async function rawProbe(link: RawLink, kernel: KernelClient, channel: 'shell' | 'control', timeoutMs = 5000): Promise<ProbeResult> {
  const msg = kernel.makeMessage('kernel_info_request');
  const id = msg.header.msg_id;
  const started = performance.now();
  await link.send(channel, kernel.frames(msg));
  while (performance.now() - started < timeoutMs) {
    const about = link.about(new Set([id]));
    const replied = about.some((m) => m.channel === channel && msgTypeOf(m.frames) === 'kernel_info_reply');
    const idle = about.some((m) => m.channel === 'iopub' && m.frames.some((frame) => frame.toString() === '{"execution_state":"idle"}'));
    if (replied && idle) return { channel, ok: true, ms: performance.now() - started };
    await sleep(10);
  }
  const seen = link.about(new Set([id])).map((m) => `${m.channel}/${msgTypeOf(m.frames) ?? '?'}`).join(', ') || 'nothing';
  return { channel, ok: false, ms: performance.now() - started, error: `no reply and idle within ${timeoutMs} ms (received: ${seen})` };
}

/** VmRSS of a process, in bytes, from /proc/PID/status. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  assert.ok(match !== null, `no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/**
 * Samples a process's RSS every `everyMs` until stopped and keeps the peak. It samples from a
 * worker thread, so a test whose own event loop is busy (parsing 50 MiB of output) still samples.
 */
export class RssSampler {
  private readonly worker: Worker;

  constructor(pid: number, everyMs = 20) {
    this.worker = new Worker(`
      const { parentPort, workerData } = require('node:worker_threads');
      const { readFileSync } = require('node:fs');
      let peak = 0;
      let samples = 0;
      const sample = () => {
        try {
          const match = /^VmRSS:\\s+(\\d+)\\s+kB$/m.exec(readFileSync('/proc/' + workerData.pid + '/status', 'utf8'));
          if (match) { peak = Math.max(peak, Number(match[1]) * 1024); samples++; }
        } catch {}
      };
      sample();
      const timer = setInterval(sample, workerData.everyMs);
      parentPort.on('message', () => { clearInterval(timer); sample(); parentPort.postMessage({ peak, samples }); parentPort.close(); });
    `, { eval: true, workerData: { pid, everyMs } });
  }

  /** Stops sampling: the peak RSS in bytes and how many samples it saw. */
  async stop(): Promise<{ peak: number; samples: number }> {
    const result = new Promise<{ peak: number; samples: number }>((resolve, reject) => {
      this.worker.once('message', resolve);
      this.worker.once('error', reject);
    });
    this.worker.postMessage('stop');
    const value = await result;
    await this.worker.terminate();
    return value;
  }
}

export const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;

export interface Summary {
  n: number;
  min: number;
  median: number;
  p95: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  return { n: sorted.length, min: sorted[0] ?? NaN, median: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? NaN };
}

/** "median 1.2 ms, p95 3.4 ms, max 5.6 ms (n=20)". */
export function describeMs(values: readonly number[]): string {
  if (values.length === 0) return 'none (n=0)';
  const s = summarize(values);
  return `median ${s.median.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms, max ${s.max.toFixed(1)} ms (n=${s.n})`;
}

/** Collects failed expectations so one run reports all of them, then fails with the list. */
export class Findings {
  readonly failures: string[] = [];

  check(ok: boolean, message: string | (() => string)): boolean {
    if (!ok) this.failures.push(typeof message === 'string' ? message : message());
    return ok;
  }

  assertNone(context = ''): void {
    // The failures lead the message: a CI log cuts long messages, and the context comes last.
    assert.ok(this.failures.length === 0,
      `${this.failures.length} expectation(s) failed:\n- ${this.failures.join('\n- ')}${context === '' ? '' : `\n${context}`}`);
  }
}

/** The first of `needles` (at least `minLength` long) found in `haystack`, if any. */
export function firstContained(haystack: string, needles: Iterable<string>, minLength = 16): string | undefined {
  for (const needle of needles) if (needle.length >= minLength && haystack.includes(needle)) return needle;
  return undefined;
}

/** The kernel's stderr lines (its log) that mention dropping a message. */
export function droppedLogLines(kernel: KernelClient): number {
  return kernel.kernelOutput().split('\n').filter((line) => /dropped|ignor/i.test(line)).length;
}
