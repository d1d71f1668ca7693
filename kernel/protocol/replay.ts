// A signed message is only valid once: a byte-identical replay carries the same signature, so a
// bounded record of recent signatures drops it. The bound keeps memory flat on a long-lived kernel;
// a replay older than `capacity` messages is the price (ipykernel keeps 64k the same way).
export class ReplayGuard {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity = 65536) {}

  /** Records the signature; returns false when it was seen before. */
  admit(signature: string): boolean {
    if (signature === '') return true; // unsigned sessions (empty key) cannot be told apart
    if (this.seen.has(signature)) return false;
    this.seen.add(signature);
    if (this.seen.size > this.capacity) {
      // Sets iterate in insertion order, so the first key is the oldest.
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return true;
  }
}
