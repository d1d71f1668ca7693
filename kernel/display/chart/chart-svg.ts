// A chart drawn as SVG, for clients without a Vega renderer. Clients show image/svg+xml as an
// image, which inherits no colour from the page: the SVG carries its own light background and
// dark text, legible in light and dark themes alike (as matplotlib's figures are).
import { escapeHtml } from '../report/format';
import { type Chart, type ChartPanel, type ChartPoint, SERIES_COLOURS } from './chart';

export const CARD_BACKGROUND = '#ffffff';
export const CARD_TEXT = '#1f2328';
/** Axis labels and ticks: 5.7:1 against the card. */
export const CARD_MUTED = '#57606a';

const WIDTH = 340;
const HEIGHT = 230;
const LEFT = 52;
const RIGHT = 12;
const TOP = 24;
const BOTTOM = 40;
/** Panel titles are 11 px, weight 600: about this wide per character in a sans-serif font (measured wide, so a title fits). */
const TITLE_CHAR_WIDTH = 6.6;
const TITLE_LEFT = 8;

/** A title cut to the panel's width (the whole of it stays in a tooltip): a long status line must not run over the next panel. */
function fitted(title: string): string {
  const room = Math.floor((WIDTH - TITLE_LEFT - RIGHT) / TITLE_CHAR_WIDTH);
  const characters = [...title];
  return characters.length <= room ? title : `${characters.slice(0, room - 1).join('')}…`;
}

function tick(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude >= 1e4 || magnitude < 1e-3 ? value.toExponential(1) : Number(value.toPrecision(3)).toString();
}

function extent(values: number[]): [number, number] {
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (!Number.isFinite(low) || !Number.isFinite(high)) return [0, 1];
  if (low === high) {
    low -= Math.abs(low) * 0.1 || 0.5;
    high += Math.abs(high) * 0.1 || 0.5;
  }
  return [low, high];
}

function panelSvg(panel: ChartPanel, offsetX: number): string {
  const log = panel.xScale === 'log';
  // On a log scale x is placed by its logarithm; points at or below zero cannot be drawn there.
  const drawable = (point: ChartPoint): boolean => Number.isFinite(point.x) && Number.isFinite(point.y) && (!log || point.x > 0);
  const xOf = (x: number): number => (log ? Math.log10(x) : x);
  const points = panel.series.flatMap((series) => series.points).filter(drawable);
  const [x0, x1] = extent(points.map((point) => xOf(point.x)));
  // Bars and transfer costs start at zero; a loss curve is read better on its own range.
  const [yLow, y1] = extent(points.map((point) => point.y));
  const y0 = panel.mark === 'bar' ? Math.min(0, yLow) : yLow;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  // Bars are centred on their x: the first and last are kept half a band in from the axes so that
  // every bar lies inside the plot area.
  const barCount = panel.mark === 'bar' ? new Set(points.map((point) => point.x)).size : 0;
  const band = barCount > 0 ? plotWidth / barCount : 0;
  const inset = band / 2;
  const px = (x: number): number => offsetX + LEFT + inset + ((xOf(x) - x0) / (x1 - x0 || 1)) * (plotWidth - 2 * inset);
  const py = (y: number): number => TOP + plotHeight - ((y - y0) / (y1 - y0 || 1)) * plotHeight;
  const parts: string[] = [];
  const axisY = TOP + plotHeight;
  parts.push(`<line x1="${offsetX + LEFT}" y1="${axisY}" x2="${offsetX + WIDTH - RIGHT}" y2="${axisY}" stroke="${CARD_MUTED}"/>`);
  parts.push(`<line x1="${offsetX + LEFT}" y1="${TOP}" x2="${offsetX + LEFT}" y2="${axisY}" stroke="${CARD_MUTED}"/>`);
  const label = (x: number, y: number, text: string, anchor: string, extra = ''): string =>
    `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="10" fill="${CARD_MUTED}" text-anchor="${anchor}"${extra}>${escapeHtml(text)}</text>`;
  const xTick = (x: number): string => tick(log ? 10 ** x : x);
  parts.push(label(offsetX + LEFT, axisY + 13, xTick(x0), 'start'), label(offsetX + WIDTH - RIGHT, axisY + 13, xTick(x1), 'end'));
  parts.push(label(offsetX + LEFT - 4, axisY, tick(y0), 'end'), label(offsetX + LEFT - 4, TOP + 8, tick(y1), 'end'));
  parts.push(label(offsetX + LEFT + plotWidth / 2, axisY + 28, panel.xTitle, 'middle'));
  parts.push(label(offsetX + 12, TOP + plotHeight / 2, panel.yTitle, 'middle', ` transform="rotate(-90 ${offsetX + 12} ${TOP + plotHeight / 2})"`));
  if (panel.title) {
    parts.push(`<text class="tsgpu-chart-title" x="${offsetX + TITLE_LEFT}" y="14" font-size="11" font-weight="600" fill="${CARD_TEXT}">`
      + `<title>${escapeHtml(panel.title)}</title>${escapeHtml(fitted(panel.title))}</text>`);
  }
  panel.series.forEach((series, index) => {
    const colour = SERIES_COLOURS[index % SERIES_COLOURS.length]!;
    const shown = series.points.filter(drawable);
    if (panel.mark === 'bar') {
      const width = Math.max(1, Math.min(24, band - 2));
      for (const point of shown) {
        const top = py(Math.max(point.y, 0));
        parts.push(`<rect class="tsgpu-chart-bar" x="${(px(point.x) - width / 2).toFixed(1)}" y="${top.toFixed(1)}" width="${width.toFixed(1)}" height="${Math.max(0, py(y0) - top).toFixed(1)}" fill="${colour}"/>`);
      }
      return;
    }
    if (panel.mark === 'line' && shown.length > 1) {
      const path = [...shown].sort((a, b) => a.x - b.x).map((point) => `${px(point.x).toFixed(1)},${py(point.y).toFixed(1)}`).join(' ');
      parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${path}"/>`);
    }
    for (const point of shown) parts.push(`<circle class="tsgpu-chart-point" cx="${px(point.x).toFixed(1)}" cy="${py(point.y).toFixed(1)}" r="2.5" fill="${colour}"/>`);
  });
  // Legend: one entry per series, top right, when there is more than one.
  if (panel.series.length > 1) {
    panel.series.forEach((series, index) => {
      const y = TOP + 4 + index * 13;
      const x = offsetX + WIDTH - RIGHT - 90;
      parts.push(`<rect x="${x}" y="${y - 7}" width="8" height="8" fill="${SERIES_COLOURS[index % SERIES_COLOURS.length]}"/>`);
      parts.push(`<text x="${x + 12}" y="${y}" font-size="10" fill="${CARD_TEXT}">${escapeHtml(series.name)}</text>`);
    });
  }
  return parts.join('');
}

export function chartSvg(chart: Chart): string {
  const width = WIDTH * chart.panels.length;
  return `<svg xmlns="http://www.w3.org/2000/svg" class="tsgpu-chart" width="${width}" height="${HEIGHT}" viewBox="0 0 ${width} ${HEIGHT}" font-family="sans-serif">`
    + `<rect width="${width}" height="${HEIGHT}" rx="4" fill="${CARD_BACKGROUND}"/>`
    + chart.panels.map((panel, index) => panelSvg(panel, index * WIDTH)).join('') + '</svg>';
}
