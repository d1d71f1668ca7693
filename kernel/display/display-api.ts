// The display functions cells call (`display`, `display.html`, handles, `clearOutput`). They
// only build MIME bundles and hand events to `emit`; where the events go is the kernel's business.
import { randomUUID } from 'node:crypto';
import type { MimeBundle, OutputEvent } from '../interpreter/interpreter';
import type { JsonObject } from '../protocol/messages';
import { type Plottable, plotBundle, type PlotOptions } from './chart/plot';
import { vegaLiteBundle } from './chart/vegalite-fallback';
import { toMimeBundle } from './mime-bundle';

export interface DisplayOptions {
  /** Names the output so a later `update()` (or `display(…, {id})`) replaces it in place. */
  id?: string;
  metadata?: JsonObject;
}

export interface DisplayHandle {
  readonly id: string;
  display(value: unknown, metadata?: JsonObject): DisplayHandle;
  update(value: unknown, metadata?: JsonObject): DisplayHandle;
}

type Binary = Uint8Array | ArrayBuffer;

const HANDLE = Symbol.for('tsgpu.displayHandle');

/** A cell ending in `display(…)` has shown its output already: its handle is no result to show. */
export function isDisplayHandle(value: unknown): boolean {
  return typeof value === 'object' && value !== null && HANDLE in value;
}

function base64(data: Binary | string): string {
  if (typeof data === 'string') return data; // already base64, as Jupyter stores images
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('base64');
}

/** A value given as a MIME bundle: `{ 'text/html': '<b>x</b>' }`. */
function isMimeBundle(value: unknown): value is MimeBundle {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => /^[a-z]+\/[-+.\w]+$/.test(key));
}

function bundleOf(value: unknown): MimeBundle {
  if (isMimeBundle(value)) {
    const data: MimeBundle = { ...value };
    if (!('text/plain' in data)) data['text/plain'] = `<${Object.keys(data)[0]} output>`;
    return data;
  }
  return toMimeBundle(value).data;
}

export function createDisplayApi(emit: (event: OutputEvent) => void) {
  const show = (data: MimeBundle, options: DisplayOptions = {}): DisplayHandle => {
    const id = options.id ?? randomUUID();
    emit({ type: 'display_data', data, metadata: options.metadata ?? {}, displayId: id });
    return handle(id);
  };
  const handle = (id: string): DisplayHandle => Object.defineProperty<DisplayHandle>({
    id,
    display: (value, metadata) => show(bundleOf(value), metadata ? { id, metadata } : { id }),
    update(value, metadata) {
      emit({ type: 'update_display_data', data: bundleOf(value), metadata: metadata ?? {}, displayId: id });
      return this;
    },
  }, HANDLE, { value: true });
  const typed = (mime: string, toText: (content: string) => string = () => `<${mime} output>`) =>
    (content: string, options?: DisplayOptions): DisplayHandle => show({ [mime]: content, 'text/plain': toText(content) }, options);
  const image = (mime: string) => (data: Binary | string, options?: DisplayOptions): DisplayHandle =>
    show({ [mime]: base64(data), 'text/plain': `<${mime} image>` }, options);

  const display = Object.assign(
    (value: unknown, options?: DisplayOptions): DisplayHandle => show(bundleOf(value), options),
    {
      html: typed('text/html'),
      markdown: typed('text/markdown', (content) => content),
      svg: typed('image/svg+xml'),
      latex: typed('text/latex', (content) => content),
      javascript: typed('application/javascript'),
      text: typed('text/plain', (content) => content),
      png: image('image/png'),
      jpeg: image('image/jpeg'),
      gif: image('image/gif'),
      pdf: image('application/pdf'),
      json: (value: unknown, options?: DisplayOptions): DisplayHandle => show(
        { 'application/json': JSON.parse(JSON.stringify(value ?? null)) as JsonObject, 'text/plain': JSON.stringify(value, null, 2) }, options),
      raw: (bundle: MimeBundle, options?: DisplayOptions): DisplayHandle => show(bundleOf(bundle), options),
      // Vega-Lite with the SVG and text fallbacks every chart carries (vegalite-fallback.ts).
      vegalite: (spec: JsonObject, options?: DisplayOptions): DisplayHandle => {
        if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
          throw new TypeError('display.vegalite(spec): spec must be a Vega-Lite specification object, e.g. { mark: "line", data: { values }, encoding: { x: …, y: … } }');
        }
        const bundle = vegaLiteBundle(JSON.parse(JSON.stringify(spec)) as JsonObject);
        return show(bundle.data, { ...options, metadata: { ...bundle.metadata, ...options?.metadata } });
      },
    },
  );
  /** plot(y), plot(x, y), plot(y, options) or plot(x, y, options): a line (or scatter) chart. */
  const plot = async (first: Plottable, second?: Plottable | (PlotOptions & DisplayOptions), options: PlotOptions & DisplayOptions = {}): Promise<DisplayHandle> => {
    const bundle = await plotBundle(first, second, options);
    const shownOptions = (second !== undefined && typeof second === 'object' && !Array.isArray(second) && !ArrayBuffer.isView(second) && !('shape' in second)
      ? second : options) as DisplayOptions;
    return show(bundle.data, { ...(shownOptions.id ? { id: shownOptions.id } : {}), metadata: bundle.metadata });
  };
  const clearOutput = (options: { wait?: boolean } = {}): void => emit({ type: 'clear_output', wait: options.wait === true });
  return { display, clearOutput, plot };
}

export type DisplayApi = ReturnType<typeof createDisplayApi>;
