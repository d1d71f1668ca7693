// How a tfjs-layers model shows as a cell's value or in console.log: its layers with their output
// shapes and parameter counts, the total, and the device its weights are on (as PyTorch prints a
// module). Without this a 2-layer model printed as its whole object graph, some 400 lines.

/** What the summary reads from a model: tfjs-layers' LayersModel, as far as it is used here. */
export interface SummarizedModel {
  name: string;
  layers: readonly { name: string; outputShape: unknown; countParams(): number; getClassName(): string }[];
  weights: readonly { read(): unknown }[];
  trainableWeights: readonly { read(): { size: number } }[];
  getClassName(): string;
  countParams(): number;
}

export interface ModelSummary {
  text: string;
  html: string;
}

/** `[null, 4]` as tfjs writes a batch dimension; several outputs as a list of shapes. */
function shapeText(shape: unknown): string {
  if (!Array.isArray(shape)) return '?';
  if (shape.some(Array.isArray)) return shape.map(shapeText).join(', ');
  return `[${shape.map((dimension) => (dimension === null ? 'null' : String(dimension))).join(', ')}]`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `deviceOf` says where a weight's data is (always asked of tfjs: a cached tag goes stale). */
export function summarizeModel(model: SummarizedModel, deviceOf: (weight: unknown) => string): ModelSummary {
  const devices = [...new Set(model.weights.map((weight) => deviceOf(weight.read())))];
  const where = devices.length === 0 ? 'no weights yet' : `weights on ${devices.join(' and ')}`;
  const header = `${model.getClassName()} "${model.name}" (${where})`;
  const rows = model.layers.map((layer) => [`${layer.name} (${layer.getClassName()})`, shapeText(layer.outputShape), String(layer.countParams())]);
  const total = model.countParams();
  const trainable = model.trainableWeights.reduce((sum, weight) => sum + weight.read().size, 0);
  const footer = `total params: ${total} (trainable ${trainable})`;
  const titles = ['layer', 'output shape', 'params'];
  const widths = titles.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]): string => `  ${cells.map((cell, column) => (column === 2 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ')}`.trimEnd();
  const text = [header, line(titles), ...rows.map(line), footer].join('\n');
  const cell = (tag: 'td' | 'th', content: string, column: number): string => `<${tag}${column === 2 ? ' style="text-align:right"' : ''}>${escapeHtml(content)}</${tag}>`;
  const html = `<div><b>${escapeHtml(header)}</b><table><thead><tr>${titles.map((title, column) => cell('th', title, column)).join('')}</tr></thead><tbody>`
    + rows.map((row) => `<tr>${row.map((content, column) => cell('td', content, column)).join('')}</tr>`).join('')
    + `</tbody></table>${escapeHtml(footer)}</div>`;
  return { text, html };
}
