// A chart as one MIME bundle: Vega-Lite for JupyterLab and VS Code (both render it natively), an
// SVG drawn here for clients without a Vega renderer (classic Notebook, nbconvert), and a line of
// text for terminals and `tsgpu run`. The three always travel together (DESIGN: no chart without
// fallbacks), so every client shows something.
import type { MimeBundle } from '../../interpreter/interpreter';
import type { JsonObject } from '../../protocol/messages';
import { chartSvg } from './chart-svg';
import { chartText } from './chart-text';

export const VEGALITE_MIME = 'application/vnd.vegalite.v5+json';

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartSeries {
  /** Shown in the legend and the text summary: "loss", "val_loss", … */
  name: string;
  points: ChartPoint[];
}

/** One plot area: its series share the axes. */
export interface ChartPanel {
  title?: string;
  xTitle: string;
  yTitle: string;
  /** line: points joined in x order (each point drawn too); point: a scatter; bar: one bar per x. */
  mark: 'line' | 'point' | 'bar';
  /** 'log' for x values spread over decades (batch sizes 1 … 1024). */
  xScale?: 'linear' | 'log';
  series: ChartSeries[];
}

export interface Chart {
  /** Side by side, left to right. */
  panels: ChartPanel[];
}

/** Series colours, in order (Vega's category10, so the SVG matches what Vega draws). */
export const SERIES_COLOURS = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];

const PANEL_WIDTH = 300;
const PANEL_HEIGHT = 180;

function panelSpec(panel: ChartPanel): JsonObject {
  const values = panel.series.flatMap((series) => series.points.map((point) => ({ series: series.name, x: point.x, y: point.y })));
  // Each point drawn (point: true) so a reader sees every epoch, not only the line through them.
  const mark: JsonObject = panel.mark === 'line' ? { type: 'line', point: true } : panel.mark === 'point' ? { type: 'point', filled: true } : { type: 'bar' };
  return {
    ...(panel.title ? { title: panel.title } : {}),
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    data: { values },
    mark,
    encoding: {
      x: {
        field: 'x', type: 'quantitative', title: panel.xTitle,
        ...(panel.xScale === 'log' ? { scale: { type: 'log' } } : {}),
        // Steps and epochs are whole numbers: no tick at 1.5.
        ...(values.every((value) => Number.isInteger(value.x)) ? { axis: { tickMinStep: 1, format: 'd' } } : {}),
      },
      y: { field: 'y', type: 'quantitative', title: panel.yTitle },
      // A legend only tells series apart: one series needs none.
      color: { field: 'series', type: 'nominal', title: null, scale: { range: SERIES_COLOURS }, ...(panel.series.length > 1 ? {} : { legend: null }) },
      tooltip: [{ field: 'series', type: 'nominal' }, { field: 'x', type: 'quantitative' }, { field: 'y', type: 'quantitative' }],
    },
  };
}

/** The Vega-Lite spec alone (what display.vegalite would be given). */
export function vegaLiteSpec(chart: Chart): JsonObject {
  const schema = { $schema: 'https://vega.github.io/schema/vega-lite/v5.json' };
  if (chart.panels.length === 1) return { ...schema, ...panelSpec(chart.panels[0]!) };
  // Each panel keeps its own colour scale: a transfer panel must not share the metrics' legend.
  return { ...schema, hconcat: chart.panels.map(panelSpec), resolve: { scale: { color: 'independent' } } };
}

/**
 * Metadata that asks JupyterLab's Vega renderer for SVG rather than canvas: crisp at any zoom,
 * and its marks are elements a test (or a screen reader) can find.
 */
export function vegaLiteMetadata(): JsonObject {
  return { [VEGALITE_MIME]: { embed_options: { renderer: 'svg' } } };
}

export function chartBundle(chart: Chart, text = chartText(chart)): { data: MimeBundle; metadata: JsonObject } {
  const svg = chartSvg(chart);
  return {
    data: { [VEGALITE_MIME]: vegaLiteSpec(chart), 'image/svg+xml': svg, 'text/plain': text },
    metadata: vegaLiteMetadata(),
  };
}
