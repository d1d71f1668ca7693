// How many stream chunks the main thread has posted to the protocol worker that the worker has not
// published yet, in memory both threads share; the main thread waits while that is too many.
//
// Why (issue 14): a loop printing 50 MiB posts a 64 KiB chunk about every 100 µs, faster than the
// worker encodes them. Each posted chunk is a malloc'd copy in the main thread's arena until the
// worker reads it, so hundreds piled up, interleaved with allocations that outlive them, and the
// arena kept them (25 MiB of RSS that never came back). With at most MAX_UNPUBLISHED in flight the
// same few blocks are reused. The wait is the worker's encoding speed, not the client's: zeromq
// queues what the worker publishes.
const POSTED = 0;
const TAKEN = 1;
const SLOTS = 2;

/** Chunks in flight before the main thread waits (each up to output-capture.ts's FLUSH_BYTES). */
export const MAX_UNPUBLISHED = 8;
/** One wait; an interrupt ends it sooner (V8 wakes a waiting thread for it). */
const WAIT_SLICE_MS = 50;
/** A worker that takes nothing for this long is stuck or gone: post anyway rather than hang. */
const GIVE_UP_MS = 10_000;

export function createOutputBacklog(): SharedArrayBuffer {
  return new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT);
}

/** The main thread's half: beforePost() before posting each stream chunk, posted() after. */
export class BacklogSender {
  private readonly slots: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.slots = new Int32Array(buffer);
  }

  /** Waits while MAX_UNPUBLISHED chunks are in flight; counts nothing (see posted). */
  beforePost(): void {
    const started = Date.now();
    for (;;) {
      const taken = Atomics.load(this.slots, TAKEN);
      if (Atomics.load(this.slots, POSTED) - taken < MAX_UNPUBLISHED) break;
      if (Date.now() - started > GIVE_UP_MS) break;
      Atomics.wait(this.slots, TAKEN, taken, WAIT_SLICE_MS);
    }
  }

  /**
   * Counts a chunk once it is posted. An interrupt's SIGINT ends a run where it lands, with no
   * finally: counted before the post, a chunk stopped between the two was counted and never taken,
   * and eight such would have made every later print wait 10 s. Counted after, one stopped between
   * the post and the count is taken uncounted: one more chunk may be in flight, no more.
   */
  posted(): void {
    Atomics.add(this.slots, POSTED, 1);
  }
}

/** The protocol worker's half: call once each stream chunk is published. */
export class BacklogReceiver {
  private readonly slots: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.slots = new Int32Array(buffer);
  }

  taken(): void {
    Atomics.add(this.slots, TAKEN, 1);
    Atomics.notify(this.slots, TAKEN);
  }
}
