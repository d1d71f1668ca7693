// A chart in one line per panel, for terminals and `tsgpu run`: what is plotted and its range.
import type { Chart, ChartSeries } from './chart';

function number(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}

function seriesText(series: ChartSeries): string {
  // NaN and ±Infinity are not drawn: the range is the drawn points', and the text says what was left out.
  const points = series.points.filter((point) => Number.isFinite(point.x) && Number.isFinite(point.y));
  const skipped = series.points.length - points.length;
  const left = skipped > 0 ? `, ${skipped} non-finite value${skipped === 1 ? '' : 's'} skipped` : '';
  if (points.length === 0) return `${series.name}: no points${left}`;
  const ys = points.map((point) => point.y);
  const last = points.at(-1)!;
  return `${series.name} ${number(points[0]!.y)} → ${number(last.y)} (min ${number(Math.min(...ys))}, max ${number(Math.max(...ys))}${left})`;
}

export function chartText(chart: Chart): string {
  return chart.panels.map((panel) => {
    const count = Math.max(0, ...panel.series.map((series) => series.points.length));
    const kind = panel.mark === 'point' ? 'scatter' : panel.mark;
    return `${kind} chart${panel.title ? ` "${panel.title}"` : ''}: ${panel.yTitle} against ${panel.xTitle}, ${count} point${count === 1 ? '' : 's'}`
      + (panel.series.length > 0 ? ` · ${panel.series.map(seriesText).join(' · ')}` : '');
  }).join('\n');
}
