// Turns a JavaScript value into a MIME bundle. Every bundle carries text/plain, so every
// front end (JupyterLab, VS Code, classic Notebook, a terminal) has something to show.
import { inspect } from 'node:util';
import type { MimeBundle } from '../interpreter/interpreter';
import type { JsonObject } from '../protocol/messages';

/** Objects that know how to show themselves return a bundle from this method (as Deno's kernel). */
export const JUPYTER_DISPLAY = Symbol.for('Jupyter.display');

export interface Displayed {
  data: MimeBundle;
  metadata: JsonObject;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function ownBundle(value: unknown): MimeBundle | null {
  if (!isRecord(value) && typeof value !== 'function') return null;
  const method = (value as { [JUPYTER_DISPLAY]?: unknown })[JUPYTER_DISPLAY];
  if (typeof method !== 'function') return null;
  const bundle: unknown = method.call(value);
  if (!isRecord(bundle)) return null;
  const data: MimeBundle = {};
  for (const [mime, content] of Object.entries(bundle)) {
    if (typeof content === 'string') data[mime] = content;
    else if (isRecord(content)) data[mime] = JSON.parse(JSON.stringify(content)) as JsonObject;
  }
  return data;
}

export function plainText(value: unknown): string {
  return typeof value === 'string' ? inspect(value) : inspect(value, { depth: 4, colors: false, maxArrayLength: 100 });
}

export function toMimeBundle(value: unknown): Displayed {
  const data = ownBundle(value) ?? {};
  if (!('text/plain' in data)) data['text/plain'] = plainText(value);
  return { data, metadata: {} };
}
