// Where big outgoing frames live: slices of one large buffer (a slab) that glibc serves with mmap,
// so their memory leaves the process once the slab is released, however the heap is laid out.
//
// Why (issue 14): a cell printing 50 MiB is ~800 stream messages whose 64 KiB content frames are
// all alive at once while zeromq sends them (the client reads slower than the kernel writes). Each
// was its own malloc in the protocol worker's arena, interleaved with small allocations that
// outlive them; glibc returns only an arena's top to the system, so RSS stayed 60–90 MiB above its
// baseline for good. A slab is one allocation of more than 32 MiB, which glibc always maps (its
// sliding mmap threshold never exceeds 32 MiB); only the pages written are resident, and when every
// frame cut from it is sent and collected the whole mapping is unmapped. Small frames (headers,
// most messages) are ordinary buffers: they never pile up.
//
// The slab in use is dropped when it is full or after a quiet moment, so an idle kernel holds none.
// A dropped slab is unmapped only once the garbage collector has collected its frames, and an idle
// worker seldom collects: after a burst, `collect` (the worker isolate's gc) runs a few times,
// while zeromq may still be sending the last frames to a slow client.

import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * This thread's `gc` without --expose-gc (as tensor-finalizer.ts does on the main thread): the flag
 * is read when a context is made, so one throwaway context gets it, and it is turned off again.
 */
export function isolateGc(): (() => void) | null {
  try {
    v8.setFlagsFromString('--expose-gc');
    const collect = vm.runInNewContext('gc') as unknown;
    v8.setFlagsFromString('--no-expose-gc');
    return typeof collect === 'function' ? () => (collect as () => void)() : null;
  } catch {
    return null;
  }
}

/** Frames this size and up are cut from a slab. */
export const SLAB_FRAME_MIN = 16 * 1024;
/** Above glibc's largest sliding mmap threshold (32 MiB on 64-bit), so malloc always maps it. */
const SLAB_BYTES = 32 * 1024 * 1024 + 64 * 1024;
/** The slab in use is let go this long after its last frame... */
const IDLE_MS = 200;
/** ...and the worker collects garbage this long after that (ms, each from the slab's last frame). */
const COLLECT_AFTER_MS = [1000, 3000, 8000];

export class FrameSlabs {
  private slab: Buffer | null = null;
  private used = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private collectTimers: NodeJS.Timeout[] = [];

  private collect: (() => void) | null | undefined;

  /** @param collector makes a full garbage collection of this thread's isolate (null: none); asked at the first slab. */
  constructor(private readonly collector: () => (() => void) | null = () => null) {}

  /** `text` as UTF-8 bytes: a slice of the current slab when big, a plain buffer when small. */
  frame(text: string): Buffer {
    if (text.length < SLAB_FRAME_MIN) return Buffer.from(text, 'utf8');
    const length = Buffer.byteLength(text, 'utf8');
    if (length > SLAB_BYTES) return Buffer.from(text, 'utf8'); // over 32 MiB: malloc maps it anyway
    if (!this.slab || this.used + length > this.slab.length) {
      try {
        // Uninitialised is fine: only the written bytes of a slice are ever read.
        this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      } catch {
        // No 32 MiB of address space to spare (strict overcommit): an ordinary buffer still works.
        this.slab = null;
        return Buffer.from(text, 'utf8');
      }
      for (const timer of this.collectTimers.splice(0)) clearTimeout(timer);
      this.used = 0;
    }
    const start = this.used;
    this.slab.write(text, start, length, 'utf8');
    // 8-byte aligned starts, as malloc would give.
    this.used = start + ((length + 7) & ~7);
    this.armIdle();
    return this.slab.subarray(start, start + length);
  }

  private armIdle(): void {
    if (this.idleTimer) this.idleTimer.refresh();
    else {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = null;
        this.slab = null;
        this.scheduleCollect();
      }, IDLE_MS);
      this.idleTimer.unref();
    }
  }

  private scheduleCollect(): void {
    if (this.collect === undefined) this.collect = this.collector();
    const collect = this.collect;
    if (!collect) return;
    for (const timer of this.collectTimers.splice(0)) clearTimeout(timer);
    for (const at of COLLECT_AFTER_MS) {
      const timer = setTimeout(collect, at - IDLE_MS);
      timer.unref();
      this.collectTimers.push(timer);
    }
  }
}
