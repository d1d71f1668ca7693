// plot(): a line or scatter chart of arrays or 1-D/2-D tensors, shown as a chart bundle. A tensor is
// read back once with its own data() (so a GPU tensor's readback is recorded like any other move);
// display does not know tfjs, only the shape of a tensor.
import { type Chart, type ChartSeries, chartBundle } from './chart';

/** What plot() reads from a tensor: its shape and one readback of its values. */
interface TensorLike {
  shape: number[];
  data(): Promise<ArrayLike<number>>;
}

export type Plottable = ArrayLike<number> | readonly (readonly number[])[] | TensorLike;

export interface PlotOptions {
  /** line (default): points joined in x order; scatter: points only. */
  type?: 'line' | 'scatter';
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Names of the series: one per column of a 2-D y. */
  names?: string[];
  /** 'log' for x values spread over decades (batch sizes 1 … 1024). */
  xScale?: 'linear' | 'log';
}

function isTensorLike(value: unknown): value is TensorLike {
  return typeof value === 'object' && value !== null && Array.isArray((value as TensorLike).shape)
    && typeof (value as TensorLike).data === 'function';
}

/** Columns of numbers: one for a 1-D input, one per column of a 2-D input. */
async function columnsOf(value: Plottable, what: string): Promise<number[][]> {
  if (isTensorLike(value)) {
    const shape = value.shape;
    if (shape.length > 2) throw new TypeError(`plot(): ${what} is a ${shape.length}-D tensor of shape [${shape.join(', ')}]; give it a 1-D or 2-D tensor (reshape or slice it first)`);
    const flat = Array.from(await value.data());
    if (shape.length < 2) return [flat];
    const [rows, columns] = [shape[0]!, shape[1]!];
    return Array.from({ length: columns }, (_, column) => Array.from({ length: rows }, (_, row) => flat[row * columns + column]!));
  }
  const rows = Array.from(value as ArrayLike<unknown>);
  if (rows.every((row) => typeof row === 'number')) return [rows as number[]];
  if (rows.every((row) => Array.isArray(row))) {
    const width = (rows[0] as unknown[] | undefined)?.length ?? 0;
    const bad = rows.findIndex((row) => (row as unknown[]).length !== width || (row as unknown[]).some((cell) => typeof cell !== 'number'));
    if (bad >= 0) throw new TypeError(`plot(): row ${bad} of ${what} is not ${width} numbers: ${JSON.stringify(rows[bad]).slice(0, 80)}`);
    return Array.from({ length: width }, (_, column) => rows.map((row) => (row as number[])[column]!));
  }
  const bad = rows.findIndex((row) => typeof row !== 'number');
  throw new TypeError(`plot(): element ${bad} of ${what} is ${JSON.stringify(rows[bad])}, not a number; plot takes numbers, number[][] or a 1-D/2-D tensor`);
}

/** The chart for plot(y) or plot(x, y), reading each tensor back once. */
export async function plotChart(first: Plottable, second: Plottable | undefined, options: PlotOptions): Promise<Chart> {
  const ys = await columnsOf(second ?? first, second === undefined ? 'the values' : 'y');
  const xs = second === undefined ? null : await columnsOf(first, 'x');
  if (xs && xs.length !== 1) throw new TypeError(`plot(x, y): x has ${xs.length} columns; give x as one column of numbers`);
  const x = xs?.[0];
  const series: ChartSeries[] = ys.map((column, index) => {
    if (x && x.length !== column.length) throw new TypeError(`plot(x, y): x has ${x.length} values but y has ${column.length}; they must be as long`);
    const name = options.names?.[index] ?? (ys.length === 1 ? options.yLabel ?? 'y' : `y${index}`);
    return { name, points: column.map((y, i) => ({ x: x ? x[i]! : i, y })) };
  });
  return {
    panels: [{
      ...(options.title ? { title: options.title } : {}),
      xTitle: options.xLabel ?? (x ? 'x' : 'index'), yTitle: options.yLabel ?? 'y',
      mark: options.type === 'scatter' ? 'point' : 'line', series, ...(options.xScale ? { xScale: options.xScale } : {}),
    }],
  };
}

export async function plotBundle(first: Plottable, second?: Plottable | PlotOptions, options: PlotOptions = {}): Promise<ReturnType<typeof chartBundle>> {
  const isOptions = second !== undefined && !isTensorLike(second) && !Array.isArray(second) && !ArrayBuffer.isView(second);
  const chart = await plotChart(first, isOptions ? undefined : second as Plottable | undefined, isOptions ? second as PlotOptions : options);
  return chartBundle(chart);
}
