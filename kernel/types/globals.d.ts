// What every cell sees without an import. Keep in step with kernel/display/display-api.ts and
// kernel/interpreter/typescript/cell-globals.ts, which provide these at run time.
type TsgpuMimeBundle = { [mime: string]: string | object };

interface TsgpuDisplayOptions {
  /** Names the output so a later `update()` (or `display(…, { id })`) replaces it in place. */
  id?: string;
  metadata?: object;
}

interface TsgpuDisplayHandle {
  readonly id: string;
  /** Shows another output under the same id. */
  display(value: unknown, metadata?: object): TsgpuDisplayHandle;
  /** Replaces every output shown under this id (update_display_data). */
  update(value: unknown, metadata?: object): TsgpuDisplayHandle;
}

type TsgpuBinary = Uint8Array | ArrayBuffer | string;

interface TsgpuDisplay {
  /** Shows a value (as Node's inspect would print it) or a MIME bundle such as `{ 'text/html': '<b>hi</b>' }`. */
  (value: unknown, options?: TsgpuDisplayOptions): TsgpuDisplayHandle;
  html(html: string, options?: TsgpuDisplayOptions): TsgpuDisplayHandle;
  markdown(markdown: string, options?: TsgpuDisplayOptions): TsgpuDisplayHandle;
  svg(svg: string, options?: TsgpuDisplayOptions): TsgpuDisplayHandle;
  latex(latex: string, options?: TsgpuDisplayOptions): TsgpuDisplayHandle;
  javascript(code: string, options?: TsgpuDisplayOptions): TsgpuDisplayHandle;
  text(text: string, options?: TsgpuDisplayOptions): TsgpuDisplayHandle;
  /** PNG bytes, or a base64 string. */
  png(data: TsgpuBinary, options?: TsgpuDisplayOptions): TsgpuDisplayHandle;
  jpeg(data: TsgpuBinary, options?: TsgpuDisplayOptions): TsgpuDisplayHandle;
  gif(data: TsgpuBinary, options?: TsgpuDisplayOptions): TsgpuDisplayHandle;
  pdf(data: TsgpuBinary, options?: TsgpuDisplayOptions): TsgpuDisplayHandle;
  json(value: unknown, options?: TsgpuDisplayOptions): TsgpuDisplayHandle;
  raw(bundle: TsgpuMimeBundle, options?: TsgpuDisplayOptions): TsgpuDisplayHandle;
  /**
   * A Vega-Lite chart (JupyterLab and VS Code draw it), sent with an SVG and a text fallback for
   * other clients: display.vegalite({ mark: 'line', data: { values }, encoding: { x: …, y: … } }).
   */
  vegalite(spec: object, options?: TsgpuDisplayOptions): TsgpuDisplayHandle;
}

/** Numbers, rows of numbers, or a 1-D/2-D tensor (read back once). */
type TsgpuPlottable = ArrayLike<number> | readonly (readonly number[])[] | { shape: number[]; data(): Promise<ArrayLike<number>> };

interface TsgpuPlotOptions {
  /** 'line' (default): points joined in x order; 'scatter': points only. */
  type?: 'line' | 'scatter';
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Series names, one per column of a 2-D y. */
  names?: string[];
  /** 'log' for x values spread over decades (batch sizes 1 … 1024). */
  xScale?: 'linear' | 'log';
  /** Names the output so a later plot with the same id replaces it. */
  id?: string;
}

interface TsgpuPlot {
  /** A chart of y against its index; a 2-D y draws one series per column. */
  (y: TsgpuPlottable, options?: TsgpuPlotOptions): Promise<TsgpuDisplayHandle>;
  /** A chart of y against x: `await plot(fpr, tpr, { title: 'ROC' })`. */
  (x: TsgpuPlottable, y: TsgpuPlottable, options?: TsgpuPlotOptions): Promise<TsgpuDisplayHandle>;
}

/** A line or scatter chart (Vega-Lite, with SVG and text fallbacks); tensors are read back once. */
declare const plot: TsgpuPlot;

/** Shows rich output in the notebook. */
declare const display: TsgpuDisplay;
/** Clears this cell's output; with `wait`, only when the next output arrives (no flicker). */
declare function clearOutput(options?: { wait?: boolean }): void;
/** Asks the user for a line of input in the notebook (input_request); needs a client that allows stdin. */
declare function prompt(message?: string, options?: { password?: boolean }): Promise<string>;

interface TsgpuProgress<T> extends Iterable<T>, AsyncIterable<T> {
  /** Values shown beside the bar, e.g. { loss: 0.12 }. */
  set(values: Record<string, number>): void;
  /** Counts steps done, for loops that do not iterate the progress object itself. */
  tick(steps?: number): void;
  /** Finishes the bar (iterating to the end does it too). */
  end(): void;
  /** Each finished step: the values set by then and what the step moved (what the live chart draws). */
  readonly history: readonly { step: number; values: Record<string, number>; transfers: { count: number; bytes: number; ms: number } }[];
}

interface TsgpuProgressFunction {
  /**
   * A live bar, updated in place, over an iterable or a count: for (const step of progress(100)) { … }.
   * Once values are set or data moves, it becomes a live chart of them and of each step's transfer time.
   */
  <T = number>(source: Iterable<T> | number, options?: { label?: string }): TsgpuProgress<T>;
  /** A model.fit callback: a live chart over the epochs of the loss and every metric, with each epoch's transfer cost; the epoch count is fit's own (`epochs` only as a fallback). */
  fit(options?: { epochs?: number; label?: string }): {
    onTrainBegin(): Promise<void>;
    onEpochBegin(): Promise<void>;
    onBatchBegin(): Promise<void>;
    onEpochEnd(epoch: number, logs?: Record<string, number>): Promise<void>;
    onTrainEnd(): Promise<void>;
  };
}

/** A live progress bar, updated in place. */
declare const progress: TsgpuProgressFunction;

/**
 * Runs `run` outside the cell: work it starts (`detach(() => setInterval(poll, 1000))`) belongs to
 * no cell, so interrupting the cell does not stop it and no cell's report counts its tensor work.
 */
declare function detach<T>(run: () => T): T;

declare module 'tsgpu' {
  export const progress: TsgpuProgressFunction;
  // The tensor API (declared in tensors.d.ts, which the checker adds once a cell touches tensors).
  export const tf: typeof globalThis.tf;
  export const asTensor: typeof globalThis.asTensor;
  export const device: typeof globalThis.device;
  export const bestDevice: typeof globalThis.bestDevice;
  export const withDevice: typeof globalThis.withDevice;
  export const display: TsgpuDisplay;
  export const plot: TsgpuPlot;
  export const clearOutput: (options?: { wait?: boolean }) => void;
  export const prompt: (message?: string, options?: { password?: boolean }) => Promise<string>;
  export const detach: <T>(run: () => T) => T;
}

/** tslab's module, as tsgpu provides it when tslab itself is not installed. */
declare module 'tslab' {
  export interface Display {
    javascript(s: string): void;
    html(s: string): void;
    markdown(s: string): void;
    latex(s: string): void;
    svg(s: string): void;
    png(b: Uint8Array): void;
    jpeg(b: Uint8Array): void;
    gif(b: Uint8Array): void;
    pdf(b: Uint8Array): void;
    text(s: string): void;
    raw(contentType: string, b: string | Uint8Array): void;
  }
  export const display: Display;
  /** A display whose every call replaces its own previous output. */
  export function newDisplay(): Display;
  export const versions: { tslab: string; typescript: string; node: string };
  export const isNode: boolean;
  export const isBrowser: boolean;
}
