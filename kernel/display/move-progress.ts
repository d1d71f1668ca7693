// A long move (a GiB tensor on a slow bus, or on a software GPU) shows a bar that fills in place,
// so a cell that seems stuck is visibly moving data. Moves that end within a second show nothing.
import type { MimeBundle, OutputEvent } from '../interpreter/interpreter';
import { barBundle, barPrefix, InPlaceDisplay } from './progress-bar';
import { bytesText, msText, rateText } from './report/format';

/** A move shorter than this never shows a bar. */
export const SHOW_AFTER_MS = 1000;

/**
 * Bytes over the whole time so far, waits included, labelled so: the report and %transfers give
 * GB/s over the copy alone, which is known only at the cell's end (time the thread held a copy up
 * is moved from the copy to the waits then).
 */
function render(what: string, done: number, total: number, elapsedMs: number, finished: boolean): MimeBundle {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const rate = `${rateText(elapsedMs > 0 ? done / elapsedMs / 1e6 : null)} overall`;
  const text = finished
    ? `moved ${bytesText(total)} ${what} in ${msText(elapsedMs)} (${rate}, waits included)`
    : `${barPrefix(fraction)}moving ${bytesText(total)} ${what} · ${bytesText(done)} · ${rate} · ${msText(elapsedMs)}`;
  return barBundle('tsgpu-move-progress', fraction, text);
}

export interface MoveProgress {
  /** After each chunk: draws once the move has run SHOW_AFTER_MS, then at most every 100 ms. */
  update(doneBytes: number, totalBytes: number): void;
  /** Replaces the bar with the move's outcome, if a bar was shown. */
  finish(): void;
}

/** `what` says where the data goes, e.g. "cpu → gpu:0". */
export function moveProgress(emit: (event: OutputEvent) => void, what: string): MoveProgress {
  const display = new InPlaceDisplay(emit);
  const started = performance.now();
  let total = 0;
  return {
    update(doneBytes, totalBytes) {
      total = totalBytes;
      const elapsed = performance.now() - started;
      if (elapsed >= SHOW_AFTER_MS) display.draw(() => ({ data: render(what, doneBytes, totalBytes, elapsed, false), metadata: {} }));
    },
    finish() {
      if (display.shown) display.draw(() => ({ data: render(what, total, total, performance.now() - started, true), metadata: {} }), true);
    },
  };
}
