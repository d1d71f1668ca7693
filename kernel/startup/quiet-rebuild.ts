// When a kernel that started without a current snapshot rebuilds it (snapshot-build.ts). The build
// is a few seconds of one core at nice 19; started while the kernel's first cells run (Run All
// right after a start), it still took time from them on a loaded 2-core machine. So it waits for
// the kernel to be quiet: no request in flight for QUIET_MS. A kernel that never is starts it as it
// exits (a notebook run headless: start, Run All, shut down), or LATEST_MS after its warm-up (one
// long cell), the delay every such kernel used to wait.
const QUIET_MS = 1_000;
const LATEST_MS = 30_000;
const POLL_MS = 250;

export class QuietRebuild {
  private inFlight = 0;
  private lastActive = Date.now();
  private started = false;

  constructor(private readonly rebuild: () => void) {}

  /** Counts `work` (one request the kernel serves) as activity until it settles. */
  track(work: Promise<void>): Promise<void> {
    if (this.started) return work;
    this.inFlight++;
    this.lastActive = Date.now();
    return work.finally(() => {
      this.inFlight--;
      this.lastActive = Date.now();
    });
  }

  /** Called once the kernel has warmed up: from then on the rebuild starts at the first quiet moment. */
  arm(): void {
    this.lastActive = Date.now();
    const latest = this.lastActive + LATEST_MS;
    const poll = (): void => {
      const now = Date.now();
      if ((this.inFlight === 0 && now - this.lastActive >= QUIET_MS) || now >= latest) this.start();
      else setTimeout(poll, POLL_MS).unref();
    };
    setTimeout(poll, POLL_MS).unref();
    // spawn starts the process before it returns, so it runs even from an exit handler.
    process.once('exit', () => this.start());
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.rebuild();
  }
}
