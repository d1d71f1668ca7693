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
}

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
}

interface TsgpuProgressFunction {
  /** A live bar, updated in place, over an iterable or a count: for (const step of progress(100)) { … } */
  <T = number>(source: Iterable<T> | number, options?: { label?: string }): TsgpuProgress<T>;
  /** A model.fit callback: one bar over the epochs, with loss and each epoch's transfer cost. */
  fit(options?: { epochs?: number; label?: string }): {
    onTrainBegin(): Promise<void>;
    onEpochBegin(): Promise<void>;
    onBatchEnd(batch: number, logs?: Record<string, number>): Promise<void>;
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
