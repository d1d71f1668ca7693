// A long move (a GiB tensor on a slow bus, or on a software GPU) shows a bar that fills in place,
// so a cell that seems stuck is visibly moving data. Moves that end within a second show nothing.
import { randomUUID } from 'node:crypto';
import type { MimeBundle, OutputEvent } from '../interpreter/interpreter';
import { bytesText, escapeHtml, msText, rateText } from './report/format';

/** A move shorter than this never shows a bar. */
export const SHOW_AFTER_MS = 1000;
const MIN_UPDATE_MS = 100;
const BAR = 24;

function render(what: string, done: number, total: number, elapsedMs: number, finished: boolean): MimeBundle {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * BAR);
  const rate = rateText(elapsedMs > 0 ? done / elapsedMs / 1e6 : null);
  const text = finished
    ? `moved ${bytesText(total)} ${what} in ${msText(elapsedMs)} (${rate})`
    : `[${'█'.repeat(filled)}${'░'.repeat(BAR - filled)}] ${(fraction * 100).toFixed(0)}% moving ${bytesText(total)} ${what} · ${bytesText(done)} · ${rate} · ${msText(elapsedMs)}`;
  const html = `<div class="tsgpu-move-progress" style="font-size:12px;color:inherit">`
    + `<div style="display:inline-block;width:200px;height:8px;border:1px solid rgba(127,127,127,0.5);border-radius:4px;vertical-align:middle;margin-right:8px">`
    + `<div style="width:${(fraction * 100).toFixed(1)}%;height:100%;background:#4c9be8;border-radius:3px"></div></div>`
    + `${escapeHtml(text.replace(/^\[[█░]+\] /, ''))}</div>`;
  return { 'text/plain': text, 'text/html': html };
}

export interface MoveProgress {
  /** After each chunk: draws once the move has run SHOW_AFTER_MS, then at most every 100 ms. */
  update(doneBytes: number, totalBytes: number): void;
  /** Replaces the bar with the move's outcome, if a bar was shown. */
  finish(): void;
}

/** `what` says where the data goes, e.g. "cpu → gpu:0". */
export function moveProgress(emit: (event: OutputEvent) => void, what: string): MoveProgress {
  const id = randomUUID();
  const started = performance.now();
  let shown = false;
  let lastDraw = 0;
  let total = 0;
  return {
    update(doneBytes, totalBytes) {
      total = totalBytes;
      const now = performance.now();
      if (now - started < SHOW_AFTER_MS || now - lastDraw < MIN_UPDATE_MS) return;
      lastDraw = now;
      const data = render(what, doneBytes, totalBytes, now - started, false);
      emit(shown ? { type: 'update_display_data', data, metadata: {}, displayId: id } : { type: 'display_data', data, metadata: {}, displayId: id });
      shown = true;
    },
    finish() {
      if (!shown) return;
      emit({ type: 'update_display_data', data: render(what, total, total, performance.now() - started, true), metadata: {}, displayId: id });
    },
  };
}
