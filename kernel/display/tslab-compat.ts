// What `import * as tslab from 'tslab'` gives when tslab itself is not installed: tslab's public
// surface (display.*, newDisplay(), versions, isNode, isBrowser) on tsgpu's display, so notebooks
// written for tslab run unchanged. tslab's display functions take raw bytes for images and
// return nothing; newDisplay() replaces its own output in place on every call.
import { randomUUID } from 'node:crypto';
import type { MimeBundle, OutputEvent } from '../interpreter/interpreter';

type Bytes = Uint8Array | ArrayBuffer;

function base64(data: Bytes | string): string {
  if (typeof data === 'string') return Buffer.from(data, 'utf8').toString('base64');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('base64');
}

/** tslab's Display: one method per kind of content. */
export interface TslabDisplay {
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

export function createTslab(emit: (event: OutputEvent) => void, versions: { tslab: string; typescript: string; node: string }) {
  const makeDisplay = (show: (bundle: MimeBundle) => void): TslabDisplay => {
    const text = (mime: string, plain?: (s: string) => string) => (s: string): void => show({ [mime]: s, 'text/plain': plain ? plain(s) : `<${mime} output>` });
    const image = (mime: string) => (b: Uint8Array): void => show({ [mime]: base64(b), 'text/plain': `<${mime} image>` });
    return {
      javascript: text('application/javascript'),
      html: text('text/html'),
      markdown: text('text/markdown', (s) => s),
      latex: text('text/latex', (s) => s),
      svg: text('image/svg+xml'),
      png: image('image/png'),
      jpeg: image('image/jpeg'),
      gif: image('image/gif'),
      pdf: image('application/pdf'),
      text: text('text/plain', (s) => s),
      // Binary content travels base64-encoded in a MIME bundle; text as it is.
      raw: (contentType, b) => show(contentType.startsWith('text/') || contentType.endsWith('+xml') || contentType.endsWith('json')
        ? { [contentType]: typeof b === 'string' ? b : Buffer.from(b).toString('utf8'), 'text/plain': `<${contentType} output>` }
        : { [contentType]: base64(b), 'text/plain': `<${contentType} output>` }),
    };
  };
  const display = makeDisplay((data) => emit({ type: 'display_data', data, metadata: {} }));
  const newDisplay = (): TslabDisplay => {
    const id = randomUUID();
    let shown = false;
    return makeDisplay((data) => {
      emit(shown ? { type: 'update_display_data', data, metadata: {}, displayId: id } : { type: 'display_data', data, metadata: {}, displayId: id });
      shown = true;
    });
  };
  return { display, newDisplay, versions, isNode: true, isBrowser: false };
}
