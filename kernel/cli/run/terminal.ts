// How `tsgpu run` shows a notebook's run in a terminal: each cell's outputs as text, the device
// report's one-liner and hints, and errors with their traceback.
import type { JsonObject } from '../../protocol/messages';
import type { Output } from './notebook';

const colour = process.stdout.isTTY && !process.env['NO_COLOR'];
const paint = (code: number, text: string): string => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
export const dim = (text: string): string => paint(2, text);
export const red = (text: string): string => paint(31, text);
export const green = (text: string): string => paint(32, text);
export const bold = (text: string): string => paint(1, text);

function indent(text: string): string {
  return text.replace(/\n$/, '').split('\n').map((line) => `    ${line}`).join('\n');
}

/** Terminal text for one output (a report is recognised by its metadata and shown dimmed). */
export function outputText(output: Output): string {
  switch (output.output_type) {
    case 'stream':
      return indent(String(output['text']));
    case 'error':
      return red(indent((output['traceback'] as string[]).join('\n') || `${String(output['ename'])}: ${String(output['evalue'])}`));
    default: {
      const data = (output['data'] ?? {}) as JsonObject;
      const text = typeof data['text/plain'] === 'string' ? data['text/plain'] : `<${Object.keys(data).join(', ')}>`;
      const isReport = ((output['metadata'] ?? {}) as JsonObject)['tsgpu'] !== undefined;
      return isReport ? dim(indent(text)) : indent(text);
    }
  }
}

/** `[3/12]` with a bar, for the line that starts each cell. */
export function cellBanner(index: number, total: number, label: string): string {
  const width = 20;
  const filled = Math.round((index / total) * width);
  return `${dim(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`)} ${bold(`cell ${index}/${total}`)} ${label}`;
}
