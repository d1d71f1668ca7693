// What progress() and a long move share: a bar drawn in text and in HTML, and one display
// redrawn in place (update_display_data), never more often than a client can use.
import { randomUUID } from 'node:crypto';
import type { MimeBundle, OutputEvent } from '../interpreter/interpreter';
import type { JsonObject } from '../protocol/messages';
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
  const html = `<div class="${className}" style="font-size:12px">`
    + `<div style="display:inline-block;width:200px;height:8px;border:1px solid rgba(127,127,127,0.5);border-radius:4px;vertical-align:middle;margin-right:8px">`
    + `<div style="width:${width.toFixed(1)}%;height:100%;background:#4c9be8;border-radius:3px"></div></div>`
    + `${escapeHtml(text.replace(/^\[[█░]+\] /, ''))}</div>`;
  return { 'text/plain': text, 'text/html': html };
}

/** What one draw shows. */
export interface Drawn {
  data: MimeBundle;
  metadata: JsonObject;
}

/**
 * One display: the first draw shows it, later ones update it in place, at most one per
 * MIN_UPDATE_MS. A draw that comes sooner is not dropped but deferred to the end of the interval
 * (the latest one wins), so the last state always reaches the client and the updates stay spaced.
 */
export class InPlaceDisplay {
  private readonly id = randomUUID();
  private lastDraw = 0;
  private deferred: { render: () => Drawn; timer: NodeJS.Timeout; done: Promise<void>; resolve: () => void } | null = null;
  shown = false;

  constructor(private readonly emit: (event: OutputEvent) => void) {}

  /** Whether a deferred draw is still waiting. */
  get pending(): boolean {
    return this.deferred !== null;
  }

  /** Draws `render()` now, or when MIN_UPDATE_MS has passed since the last draw; `force` draws now regardless. */
  draw(render: () => Drawn, force = false): void {
    const wait = this.lastDraw + MIN_UPDATE_MS - performance.now();
    if (!this.shown || force || wait <= 0) {
      this.send(render);
      return;
    }
    if (this.deferred) {
      this.deferred.render = render;
      return;
    }
    let resolve = (): void => undefined;
    const done = new Promise<void>((settle) => {
      resolve = settle;
    });
    const timer = setTimeout(() => {
      const deferred = this.deferred;
      if (deferred) this.send(deferred.render);
    }, Math.ceil(wait));
    this.deferred = { render, timer, done, resolve };
  }

  /** Resolves once no draw is waiting. */
  settled(): Promise<void> {
    return this.deferred?.done ?? Promise.resolve();
  }

  private send(render: () => Drawn): void {
    const deferred = this.deferred;
    this.deferred = null;
    if (deferred) clearTimeout(deferred.timer);
    const { data, metadata } = render();
    const createdAt = new Date().toISOString();
    this.emit(this.shown
      ? { type: 'update_display_data', data, metadata, displayId: this.id, createdAt }
      : { type: 'display_data', data, metadata, displayId: this.id, createdAt });
    // Timed from when the output left, not from when rendering began: a slow render (a long
    // chart) must not bring the next update closer to this one.
    this.lastDraw = performance.now();
    this.shown = true;
    deferred?.resolve();
  }
}
