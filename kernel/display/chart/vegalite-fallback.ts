// display.vegalite(spec): the user's spec as Vega-Lite, with the SVG and text every bundle needs
// for clients without a Vega renderer. A simple spec (inline values, one line, point or bar mark,
// numeric x and y, an optional colour field) is redrawn by chartSvg; any other gets a card that
// names the chart and says where it renders.
import type { MimeBundle } from '../../interpreter/interpreter';
import type { JsonObject } from '../../protocol/messages';
import { escapeHtml } from '../report/format';
import { type Chart, type ChartPanel, type ChartSeries, VEGALITE_MIME, vegaLiteMetadata } from './chart';
import { CARD_BACKGROUND, CARD_TEXT, chartSvg } from './chart-svg';
import { chartText } from './chart-text';

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : null;
}

function fieldOf(channel: unknown): { field: string; title: string } | null {
  const spec = record(channel);
  if (!spec || typeof spec['field'] !== 'string') return null;
  return { field: spec['field'], title: typeof spec['title'] === 'string' ? spec['title'] : spec['field'] };
}

function titleOf(spec: Record<string, unknown>): string | undefined {
  const title = spec['title'];
  if (typeof title === 'string') return title;
  const text = record(title)?.['text'];
  return typeof text === 'string' ? text : undefined;
}

/** The spec as a chart this module can draw, or null when it is not that simple. */
export function simpleChart(spec: JsonObject): Chart | null {
  const values = record(spec['data'])?.['values'];
  const markSpec = spec['mark'];
  const mark = typeof markSpec === 'string' ? markSpec : record(markSpec)?.['type'];
  const encoding = record(spec['encoding']);
  if (!Array.isArray(values) || typeof mark !== 'string' || !encoding) return null;
  const kind: ChartPanel['mark'] | null = mark === 'line' ? 'line' : mark === 'point' || mark === 'circle' ? 'point' : mark === 'bar' ? 'bar' : null;
  const x = fieldOf(encoding['x']);
  const y = fieldOf(encoding['y']);
  if (!kind || !x || !y) return null;
  const colour = fieldOf(encoding['color']);
  const series = new Map<string, ChartSeries>();
  for (const row of values) {
    const datum = record(row);
    const px = datum?.[x.field];
    const py = datum?.[y.field];
    if (typeof px !== 'number' || typeof py !== 'number') return null;
    const name = colour ? String(datum?.[colour.field]) : y.title;
    if (!series.has(name)) series.set(name, { name, points: [] });
    series.get(name)!.points.push({ x: px, y: py });
  }
  const title = titleOf(spec);
  return { panels: [{ ...(title ? { title } : {}), xTitle: x.title, yTitle: y.title, mark: kind, series: [...series.values()] }] };
}

function placeholderSvg(text: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="tsgpu-chart" width="360" height="48" viewBox="0 0 360 48" font-family="sans-serif">`
    + `<rect width="360" height="48" rx="4" fill="${CARD_BACKGROUND}"/>`
    + `<text x="10" y="20" font-size="12" fill="${CARD_TEXT}">${escapeHtml(text)}</text>`
    + `<text x="10" y="36" font-size="11" fill="${CARD_TEXT}">shown as a chart in JupyterLab and VS Code</text></svg>`;
}

export function vegaLiteBundle(spec: JsonObject): { data: MimeBundle; metadata: JsonObject } {
  const chart = simpleChart(spec);
  const title = titleOf(spec);
  const text = chart ? chartText(chart) : `Vega-Lite chart${title ? ` "${title}"` : ''}`;
  return {
    data: { [VEGALITE_MIME]: spec, 'image/svg+xml': chart ? chartSvg(chart) : placeholderSvg(text), 'text/plain': text },
    metadata: vegaLiteMetadata(),
  };
}
