// Reading and writing .ipynb files (nbformat 4; written as 4.5, with cell ids).
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { JsonObject, JsonValue } from '../../protocol/messages';

export type Output = JsonObject & { output_type: 'stream' | 'display_data' | 'execute_result' | 'error' };

export interface Cell {
  id: string;
  cell_type: 'code' | 'markdown' | 'raw';
  source: string;
  metadata: JsonObject;
  outputs?: Output[];
  execution_count?: number | null;
}

export interface Notebook {
  cells: Cell[];
  metadata: JsonObject;
}

function sourceText(source: JsonValue | undefined): string {
  return Array.isArray(source) ? source.map(String).join('') : typeof source === 'string' ? source : '';
}

export function readNotebook(file: string): Notebook {
  let parsed: JsonObject;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as JsonObject;
  } catch (error) {
    throw new Error(`${file} is not a notebook: ${(error as Error).message}`);
  }
  if (parsed['nbformat'] !== 4 || !Array.isArray(parsed['cells'])) throw new Error(`${file} is not an nbformat 4 notebook`);
  const cells = (parsed['cells'] as JsonObject[]).map((cell): Cell => ({
    id: typeof cell['id'] === 'string' ? cell['id'] : randomUUID().slice(0, 8),
    cell_type: cell['cell_type'] === 'code' || cell['cell_type'] === 'raw' ? cell['cell_type'] : 'markdown',
    source: sourceText(cell['source']),
    metadata: (cell['metadata'] as JsonObject | undefined) ?? {},
  }));
  return { cells, metadata: (parsed['metadata'] as JsonObject | undefined) ?? {} };
}

/** Jupyter stores multi-line strings as lists of lines; clients accept both, diffs prefer lines. */
function lines(text: string): string[] {
  return text.split(/(?<=\n)/);
}

export function writeNotebook(file: string, notebook: Notebook): void {
  const cells = notebook.cells.map((cell) => {
    const base = { id: cell.id, cell_type: cell.cell_type, metadata: cell.metadata, source: lines(cell.source) };
    return cell.cell_type === 'code' ? { ...base, execution_count: cell.execution_count ?? null, outputs: cell.outputs ?? [] } : base;
  });
  writeFileSync(file, `${JSON.stringify({ cells, metadata: notebook.metadata, nbformat: 4, nbformat_minor: 5 }, null, 1)}\n`);
}

export function isTagged(cell: Cell, tag: string): boolean {
  const tags = cell.metadata['tags'];
  return Array.isArray(tags) && tags.includes(tag);
}
