// What progress() and a long move share: a bar drawn in text and in HTML, and one display
// redrawn in place (update_display_data), never more often than a client can use.
import { randomUUID } from 'node:crypto';
import type { MimeBundle, OutputEvent } from '../interpreter/interpreter';
import { escapeHtml } from './report/format';

/** Redrawing more often than this floods the client for no visible gain. */
const MIN_UPDATE_MS = 100;
const BAR = 24;

/** `[██████░░…] 40% ` to start a line of text; '' when the total is unknown. */
export function barPrefix(fraction: number | null): string {
  if (fraction === null) return '';
  const filled = Math.round(fraction * BAR);
  return `[${'█'.repeat(filled)}${'░'.repeat(BAR - filled)}] ${(fraction * 100).toFixed(0)}% `;
}

/** `text` (which may start with barPrefix) as text/plain, and as HTML after a theme-neutral drawn bar. */
export function barBundle(className: string, fraction: number | null, text: string): MimeBundle {
  const width = fraction === null ? 0 : fraction * 100;
  const html = `<div class="${className}" style="font-size:12px;color:inherit">`
    + `<div style="display:inline-block;width:200px;height:8px;border:1px solid rgba(127,127,127,0.5);border-radius:4px;vertical-align:middle;margin-right:8px">`
    + `<div style="width:${width.toFixed(1)}%;height:100%;background:#4c9be8;border-radius:3px"></div></div>`
    + `${escapeHtml(text.replace(/^\[[█░]+\] /, ''))}</div>`;
  return { 'text/plain': text, 'text/html': html };
}

/** One display: the first draw shows it, later ones update it in place. */
export class InPlaceDisplay {
  private readonly id = randomUUID();
  private lastDraw = 0;
  shown = false;

  constructor(private readonly emit: (event: OutputEvent) => void) {}

  /** Draws `render()` unless the last draw is under MIN_UPDATE_MS old; `force` draws regardless. */
  draw(render: () => MimeBundle, force = false): void {
    const now = performance.now();
    if (this.shown && !force && now - this.lastDraw < MIN_UPDATE_MS) return;
    this.lastDraw = now;
    const data = render();
    this.emit(this.shown
      ? { type: 'update_display_data', data, metadata: {}, displayId: this.id }
      : { type: 'display_data', data, metadata: {}, displayId: this.id });
    this.shown = true;
  }
}
