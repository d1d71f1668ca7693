// Routes everything user code prints (console.*, process.stdout/stderr.write) into stream events.
// The kernel's own diagnostics never use these streams (see kernel/log.ts), so capturing them
// for the whole process life is safe, and output from timers that fire after a cell still arrives.
import { Console } from 'node:console';
import { EventEmitter } from 'node:events';
import type { OutputEvent } from './interpreter';

type StreamName = 'stdout' | 'stderr';

/** Pending text is sent when it grows past this, so a loop that prints a lot streams steadily. */
const FLUSH_BYTES = 64 * 1024;
/** ...or when this long has passed since the last send: live output even during a synchronous loop. */
const FLUSH_MS = 50;

export class OutputCapture {
  private pending: { name: StreamName; text: string } | null = null;
  /** When pending text was last sent: a flush with nothing to send is no send, and leaves it. */
  private lastFlush = 0;
  private flushScheduled = false;
  /** Set at a cell's start until its first output is sent. */
  private cellsFirst = false;
  /** Whether `kept` was last told that text is kept back. */
  private saidKept = false;

  /**
   * `guard` runs before each write user code makes (console.*, process.stdout/stderr.write) and
   * may throw: an interrupted cell's leftover work is refused there. The kernel's own messages
   * use write() directly. `kept` is told when text starts to be kept back and when it is sent: the
   * protocol worker then asks a cell's synchronous loop for it (interrupt-line.ts OUTPUT_ASKED),
   * where no timer runs.
   */
  constructor(private readonly emit: (event: OutputEvent) => void, private readonly guard: () => void = () => undefined,
    private readonly kept: (kept: boolean) => void = () => undefined) {}

  install(): void {
    globalThis.console = this.console();
    for (const [name, stream] of [['stdout', process.stdout], ['stderr', process.stderr]] as const) {
      // Replacing write keeps `process.stdout` itself (isTTY, columns, …) for code that inspects it.
      stream.write = ((chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
        this.guard();
        return this.writeChunk(name, chunk, encoding, callback);
      }) as typeof stream.write;
    }
  }

  /** The console cells get (install() makes it the global one). */
  console(): Console {
    const stdout = this.writable('stdout');
    const stderr = this.writable('stderr');
    // The sinks are no Writable streams on purpose (see writable()): the console uses write() and error listeners alone.
    const console = new Console({ stdout: stdout as unknown as NodeJS.WritableStream, stderr: stderr as unknown as NodeJS.WritableStream, colorMode: false });
    // Refused before the console formats anything.
    const methods = console as unknown as Record<string, unknown>;
    for (const name of Object.keys(methods)) {
      const method = methods[name];
      if (typeof method !== 'function') continue;
      methods[name] = (...args: unknown[]): unknown => {
        this.guard();
        return (method as (...callArgs: unknown[]) => unknown).apply(console, args);
      };
    }
    return console;
  }

  write(name: StreamName, text: string): void {
    if (text === '') return;
    if (this.pending && this.pending.name !== name) this.flush();
    if (this.pending) this.pending.text += text;
    else this.pending = { name, text };
    if (this.cellsFirst || this.pending.text.length >= FLUSH_BYTES || Date.now() - this.lastFlush >= FLUSH_MS) {
      this.flush();
      return;
    }
    this.scheduleFlush();
    if (!this.saidKept) {
      this.saidKept = true;
      this.kept(true);
    }
  }

  /**
   * A cell's first output goes out at once, however soon after the last cell's: a cell that prints
   * and then loops on awaits that settle at once (a cpu readback each step) gives the flush timer
   * no turn, and its output would wait for the loop to end. That holds whatever the kernel sent
   * before it (a notice, a display): its flushes had no text of the cell's to send.
   */
  startCell(): void {
    this.cellsFirst = true;
  }

  /**
   * Sends pending text whose interval is up. The cell's ops call it: in a loop of awaits that
   * settle at once (a cpu readback each step) the flush timer gets no turn, and a line printed
   * just after another (`console.error(a); console.log(b);` then such a loop) would wait for the
   * loop to end.
   */
  flushIfDue(): void {
    if (this.pending !== null && Date.now() - this.lastFlush >= FLUSH_MS) this.flush();
  }

  /** Sends whatever is pending; called before any other output and before a cell's reply. */
  flush(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    this.lastFlush = Date.now();
    this.cellsFirst = false;
    if (this.saidKept) {
      this.saidKept = false;
      this.kept(false);
    }
    this.emit({ type: 'stream', name: pending.name, text: pending.text });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setTimeout(() => {
      this.flushScheduled = false;
      this.flush();
    }, FLUSH_MS).unref();
  }

  /**
   * What the console writes to: a write that goes straight to write(), with no state of its own.
   * A Writable stream marks itself busy for the length of a write: an interrupt's SIGINT that
   * stopped the cell inside one (it ends a run where it lands, with no finally) left it busy for
   * good, and every later console.log of the session was buffered there, unseen. The console asks
   * only for write() and an emitter's error listeners.
   */
  private writable(name: StreamName): ConsoleSink {
    return new ConsoleSink((chunk, encoding, callback) => this.writeChunk(name, chunk, encoding, callback));
  }

  /** A stream write (`write(chunk[, encoding][, callback])`) as text on `name`, its callback told of no error after this turn. */
  private writeChunk(name: StreamName, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    this.write(name, typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    const done = typeof encoding === 'function' ? encoding : callback;
    // A stream's callback gets null for no error (the console's reads the stream's state otherwise).
    if (typeof done === 'function') queueMicrotask(() => (done as (error: null) => void)(null));
    return true;
  }
}

/** A console's stream: each write goes on at once (see OutputCapture.writable). */
class ConsoleSink extends EventEmitter {
  constructor(readonly write: (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean) {
    super();
  }
}
