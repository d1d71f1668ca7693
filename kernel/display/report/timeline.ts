// The report's timeline as SVG: one lane per device. A GPU's lane shows when the GPU itself was
// busy (its clock) as solid bars and when the host dispatched its ops as a thin strip; each move is
// a band from its start to its end between the two lanes, its wait lighter than its copy (past
// MAX_MOVE_BANDS moves, one band per run of moves that touch on the drawing's scale).
// Clients show it as an image (image/svg+xml, or the report's <img>), which inherits no colour from
// the page: it carries its own light background and dark text, legible in any theme.
import { afterCopyMs } from '../../device/covered-time';
import { CARD_BACKGROUND, CARD_MUTED, CARD_TEXT } from '../chart/chart-svg';
import type { CellReport } from './cell-report';
import { bytesText, durationText, escapeHtml } from './format';

const WIDTH = 560;
const LANE = 30;
const LEFT = 64;
const RIGHT = 12;
const TOP = 16;

/** Narrower bars than this are drawn this wide, fainter by as much. */
const MIN_BAR_PX = 1;

/**
 * A busy span as drawn: its true width, or, where that is under a pixel, one pixel whose opacity is
 * cut in proportion, so the ink a lane holds stays in proportion to its busy time. Widened to full
 * opacity, 392 spans of 1.4 ms drew a GPU busy over 5.2 s of a 7 s cell whose busy time was 548 ms.
 */
export function visibleBar(from: number, to: number, opacity: number): { x: string; width: string; opacity: string } {
  const width = Math.max(to - from, 0);
  if (width >= MIN_BAR_PX) return { x: from.toFixed(2), width: width.toFixed(2), opacity: String(opacity) };
  return { x: from.toFixed(2), width: MIN_BAR_PX.toFixed(2), opacity: (opacity * width / MIN_BAR_PX).toFixed(3) };
}

/**
 * Past this many moves, moves between the same two lanes are drawn merged where they touch on the
 * SVG's scale, one band per run, not one per move: 5,000 moves of a loop drew 5,000 bands, 2.9 MB
 * of SVG, sent twice (as the image and in the HTML) in an 8.3 MB report.
 */
export const MAX_MOVE_BANDS = 300;

/** A move band's colour: readbacks apart from uploads and moves between GPUs. */
function moveColour(direction: string): string {
  return direction === 'D2H' ? '#e8774c' : '#3fb37f';
}

/** The top and bottom of a move band between two lanes' centres (`from`, `to` as their y). */
function bandEdges(from: number, to: number): { top: number; bottom: number } {
  return { top: Math.min(from, to) + 7, bottom: Math.max(from, to) - 7 };
}

type Transfer = CellReport['transfers'][number];

/** Runs of moves between the same two lanes whose drawn bands touch (within a pixel), as one band each, titled with their count, bytes and time. */
function mergedMoveBands(report: CellReport, laneOf: Map<string, number>, x: (ms: number) => number, y: (lane: number) => number): string[] {
  const pairs = new Map<string, { direction: string; from: number; to: number; moves: Transfer[] }>();
  for (const transfer of report.transfers) {
    const from = laneOf.get(transfer.from);
    const to = laneOf.get(transfer.to);
    if (from === undefined || to === undefined || from === to) continue;
    const key = `${transfer.direction}|${from}|${to}`;
    const pair = pairs.get(key);
    if (pair === undefined) pairs.set(key, { direction: transfer.direction, from, to, moves: [transfer] });
    else pair.moves.push(transfer);
  }
  const bands: string[] = [];
  for (const { direction, from, to, moves } of pairs.values()) {
    const colour = moveColour(direction);
    const { top, bottom } = bandEdges(y(from), y(to));
    let run: { start: number; end: number; count: number; bytes: number; copyMs: number } | null = null;
    const flush = (): void => {
      if (run === null) return;
      const [start, end] = [x(run.start), x(run.end)];
      const label = `${run.count} ${direction} moves, ${bytesText(run.bytes)}, ${durationText(run.end - run.start)} from the first's start to the last's end (copying ${durationText(run.copyMs)})`;
      bands.push(`<g class="tsgpu-moves" data-count="${run.count}" data-start-ms="${run.start.toFixed(3)}" data-end-ms="${run.end.toFixed(3)}"><title>${escapeHtml(label)}</title>`
        + `<rect class="tsgpu-moves-span" x="${start.toFixed(2)}" y="${top}" width="${Math.max(end - start, MIN_BAR_PX).toFixed(2)}" height="${bottom - top}" fill="${colour}" fill-opacity="0.3" stroke="${colour}" stroke-opacity="0.5" stroke-width="0.75"/></g>`);
    };
    for (const move of moves.sort((a, b) => a.at - b.at)) {
      const end = move.at + move.ms;
      // Touching on the drawing's scale: within a pixel of the run so far.
      if (run !== null && x(move.at) <= x(run.end) + MIN_BAR_PX) {
        run.end = Math.max(run.end, end);
        run.count++;
        run.bytes += move.bytes;
        run.copyMs += move.copyMs;
        continue;
      }
      flush();
      run = { start: move.at, end, count: 1, bytes: move.bytes, copyMs: move.copyMs };
    }
    flush();
  }
  return bands;
}

export function reportTimeline(report: CellReport): string {
  const devices = report.devices.filter((use) => use.ops > 0 || (use.gpu?.spans.length ?? 0) > 0
    || report.transfers.some((t) => t.from === use.device || t.to === use.device));
  const laneOf = new Map(devices.map((use, index) => [use.device, index]));
  const span = Math.max(report.durationMs, 1);
  const pxPerMs = (WIDTH - LEFT - RIGHT) / span;
  const x = (ms: number): number => LEFT + Math.min(Math.max(ms, 0), span) * pxPerMs;
  const y = (lane: number): number => TOP + lane * LANE + LANE / 2;
  const height = TOP + devices.length * LANE + 18;
  const parts: string[] = [];
  devices.forEach((use, lane) => {
    parts.push(`<text x="4" y="${y(lane) + 4}" font-size="11" fill="${CARD_TEXT}">${escapeHtml(use.device)}</text>`);
    parts.push(`<line x1="${LEFT}" y1="${y(lane)}" x2="${WIDTH - RIGHT}" y2="${y(lane)}" stroke="${CARD_MUTED}" stroke-opacity="0.4"/>`);
    const gpuSpans = use.gpu?.spans ?? [];
    // With the GPU's own busy time known, the host's dispatch spans are a thin strip under it.
    const hostHeight = use.gpu ? 3 : 12;
    for (const [start, end] of use.spans) {
      const bar = visibleBar(x(start), x(end), 0.45);
      parts.push(`<rect class="tsgpu-host-span" x="${bar.x}" y="${y(lane) + (use.gpu ? 7 : -6)}" width="${bar.width}" height="${hostHeight}" fill="#4c9be8" fill-opacity="${bar.opacity}"><title>${escapeHtml(use.device)} ops dispatched by the host ${durationText(end - start)}</title></rect>`);
    }
    for (const [start, end] of gpuSpans) {
      const bar = visibleBar(x(start), x(end), 0.75);
      parts.push(`<rect class="tsgpu-gpu-span" x="${bar.x}" y="${y(lane) - 6}" width="${bar.width}" height="12" fill="#7a5cd6" fill-opacity="${bar.opacity}"><title>${escapeHtml(use.device)} GPU busy ${durationText(end - start)}</title></rect>`);
    }
  });
  if (report.transfers.length > MAX_MOVE_BANDS) parts.push(...mergedMoveBands(report, laneOf, x, y));
  else report.transfers.forEach((transfer, index) => {
    const from = laneOf.get(transfer.from);
    const to = laneOf.get(transfer.to);
    if (from === undefined || to === undefined || from === to) return;
    const colour = moveColour(transfer.direction);
    const { top, bottom } = bandEdges(y(from), y(to));
    const start = x(transfer.at);
    // Its waits after the copy (the answer's way back to the cell's code) come after the arrow.
    const after = afterCopyMs(transfer.waits);
    const copyStart = x(transfer.at + transfer.waitMs - after);
    const copyEnd = x(transfer.at + transfer.ms - after);
    const end = x(transfer.at + transfer.ms);
    const label = `${transfer.direction} ${bytesText(transfer.bytes)} ${durationText(transfer.ms)} (wait ${durationText(transfer.waitMs)}, copy ${durationText(transfer.copyMs)}) `
      + `${transfer.operation}${transfer.line === null ? '' : ` line ${transfer.line}`}`;
    const y1 = to > from ? top : bottom;
    const y2 = to > from ? bottom : top;
    parts.push(`<g class="tsgpu-move" data-index="${index}" data-start-ms="${transfer.at.toFixed(3)}" data-ms="${transfer.ms.toFixed(3)}"><title>${escapeHtml(label)}</title>`
      + (transfer.waitMs - after > 0 ? `<rect class="tsgpu-move-wait" x="${start.toFixed(2)}" y="${top}" width="${(copyStart - start).toFixed(2)}" height="${bottom - top}" fill="${colour}" fill-opacity="0.15"/>` : '')
      + (after > 0 ? `<rect class="tsgpu-move-wait" x="${copyEnd.toFixed(2)}" y="${top}" width="${(end - copyEnd).toFixed(2)}" height="${bottom - top}" fill="${colour}" fill-opacity="0.15"/>` : '')
      + `<rect class="tsgpu-move-span" x="${start.toFixed(2)}" y="${top}" width="${Math.max(end - start, 0).toFixed(2)}" height="${bottom - top}" fill="none" stroke="${colour}" stroke-opacity="0.5" stroke-width="0.75"/>`
      + `<line x1="${copyStart.toFixed(2)}" y1="${y1}" x2="${Math.max(copyEnd, copyStart + 1).toFixed(2)}" y2="${y2}" stroke="${colour}" stroke-width="1.5" marker-end="url(#tsgpu-arrow-${transfer.direction})"/></g>`);
  });
  parts.push(`<text x="${LEFT}" y="${height - 4}" font-size="10" fill="${CARD_MUTED}">0</text>`);
  parts.push(`<text x="${WIDTH - RIGHT}" y="${height - 4}" font-size="10" fill="${CARD_MUTED}" text-anchor="end">${durationText(span)}</text>`);
  const marker = (direction: string, colour: string): string => `<marker id="tsgpu-arrow-${direction}" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="5" markerHeight="5" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${colour}"/></marker>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" class="tsgpu-timeline" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" data-x0="${LEFT}" data-px-per-ms="${pxPerMs.toFixed(6)}">`
    + `<rect width="${WIDTH}" height="${height}" rx="4" fill="${CARD_BACKGROUND}"/><defs>${marker('H2D', '#3fb37f')}${marker('D2D', '#3fb37f')}${marker('host', '#3fb37f')}${marker('D2H', '#e8774c')}</defs>${parts.join('')}</svg>`;
}
