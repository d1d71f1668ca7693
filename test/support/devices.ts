// The device layer seen from a notebook: one kernel per file with Mesa's shader cache on disk, a
// generous deadline per cell (lavapipe, the software GPU that is gpu:0 in CI, compiles each
// shader on first use), and readers for what %devices, %memory and %transfers print.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { executeReply, iopubKinds, iopubOf, resultText, streamText } from './exchange';
import { useKernel } from './fixtures';
import type { Exchange, KernelClient } from './kernel-client';
import type { ContentOf } from './message-schema';

/** Per request: a cell's first GPU op may compile several shaders on two shared cores. */
export const DEVICE_TIMEOUT_MS = 60_000;

/** Mesa keeps compiled shaders here between runs, so reruns skip lavapipe's compiles. */
export const SHADER_CACHE_DIR = process.env['MESA_SHADER_CACHE_DIR'] ?? path.join(tmpdir(), 'tsgpu-mesa-shader-cache');

/** One kernel for the file's tests, with the shader cache set. */
export function useDeviceKernel(): () => KernelClient {
  return useKernel({ readyTimeoutMs: DEVICE_TIMEOUT_MS, env: { MESA_SHADER_CACHE_DIR: SHADER_CACHE_DIR } });
}

/** Runs a cell with the device deadline, whatever its outcome. */
export function runCell(kernel: KernelClient, code: string): Promise<Exchange> {
  return kernel.execute(code, {}, { timeoutMs: DEVICE_TIMEOUT_MS });
}

/** What a failed cell showed, for assertion messages. */
export function describeOutcome(exchange: Exchange): string {
  const errors = iopubOf(exchange, 'error').map((error) => `${error.ename}: ${error.evalue}\n${error.traceback.join('\n')}`);
  return [`iopub: ${iopubKinds(exchange).join(', ')}`, ...errors,
    `stdout: ${JSON.stringify(streamText(exchange, 'stdout'))}`, `stderr: ${JSON.stringify(streamText(exchange, 'stderr'))}`].join('\n');
}

/** Runs a cell that must succeed; its exchange. */
export async function runOk(kernel: KernelClient, code: string): Promise<Exchange> {
  const exchange = await runCell(kernel, code);
  assert.equal(executeReply(exchange).status, 'ok', `cell ${JSON.stringify(code)} failed:\n${describeOutcome(exchange)}`);
  return exchange;
}

/** Runs a cell that must succeed; its result text (undefined when it shows none). */
export async function valueOf(kernel: KernelClient, code: string): Promise<string | undefined> {
  return resultText(await runOk(kernel, code));
}

/** Runs a cell (a magic, say) that must succeed; what it printed on stdout. */
export async function printed(kernel: KernelClient, code: string): Promise<string> {
  return streamText(await runOk(kernel, code), 'stdout');
}

/** The execution count of a cell that ran: N in "cell N, line L" and <cell N>. */
export function countOf(exchange: Exchange): number {
  const count = executeReply(exchange).execution_count;
  assert.ok(typeof count === 'number', `execute_reply without execution_count: ${JSON.stringify(exchange.reply.content)}`);
  return count;
}

/** The one error of a failed cell, with everything it showed in the message when it did not fail. */
export async function errorOf(kernel: KernelClient, code: string): Promise<ContentOf<'error'>> {
  const exchange = await runCell(kernel, code);
  const errors = iopubOf(exchange, 'error');
  assert.equal(executeReply(exchange).status, 'error', `cell ${JSON.stringify(code)} should fail:\n${describeOutcome(exchange)}`);
  assert.equal(errors.length, 1, `one iopub error expected:\n${describeOutcome(exchange)}`);
  return errors[0] as ContentOf<'error'>;
}

/** Non-empty lines of a stream's text. */
export function linesOf(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

/** The line of a device table (%devices, %memory) whose first cell is `device` (a marker like "* " allowed). */
export function deviceLine(table: string, device: string): string | undefined {
  const name = device.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return table.split('\n').find((line) => new RegExp(`^[\\s*>]*${name}(\\s|$)`).test(line));
}

export interface TextTable {
  header: string[];
  /** Each row as printed and split into its columns. */
  rows: { line: string; cells: string[] }[];
}

/**
 * A plain-text table: a header line, a rule of dashes under each column, then rows up to the first
 * blank line. Columns start where the rule's dash runs start.
 */
export function parseTextTable(text: string): TextTable | undefined {
  const lines = text.split('\n');
  const rule = lines.findIndex((line, index) => index > 0 && /^[\s-]+$/.test(line) && line.includes('-'));
  if (rule < 0) return undefined;
  const starts = [...(lines[rule] ?? '').matchAll(/-+/g)].map((match) => match.index ?? 0);
  const cells = (line: string): string[] =>
    starts.map((start, column) => line.slice(start, starts[column + 1] ?? line.length).trim());
  const rows: { line: string; cells: string[] }[] = [];
  for (const line of lines.slice(rule + 1)) {
    if (line.trim() === '') break;
    rows.push({ line, cells: cells(line) });
  }
  return { header: cells(lines[rule - 1] ?? ''), rows };
}

const UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9 };

/** "257.0 KiB" -> bytes, with how far off the rounding shown may be (half a unit of the last digit). */
export function parseBytes(text: string): { bytes: number; error: number } | undefined {
  const match = /^(-?[\d,]+)(?:\.(\d+))?\s*(B|KiB|MiB|GiB|kB|KB|MB|GB)?$/.exec(text.trim());
  if (match === null) return undefined;
  const unit = UNITS[match[3] ?? 'B'] ?? 1;
  const decimals = match[2] ?? '';
  const value = Number(`${(match[1] ?? '').replace(/,/g, '')}.${decimals || '0'}`);
  return { bytes: value * unit, error: unit === 1 ? 0 : (unit / 10 ** decimals.length) / 2 };
}

/** %memory's live bytes for one device (column "live…"). */
export function liveBytes(memory: string, device: string): { bytes: number; error: number } {
  const table = parseTextTable(memory);
  assert.ok(table !== undefined, `%memory printed no table:\n${memory}`);
  const column = table.header.findIndex((title) => /live/i.test(title));
  assert.ok(column >= 0, `%memory has no "live" column:\n${memory}`);
  const row = table.rows.find(({ cells }) => (cells[0] ?? '').replace(/^[*>\s]+/, '') === device);
  assert.ok(row !== undefined, `%memory has no row for ${device}:\n${memory}`);
  const parsed = parseBytes(row.cells[column] ?? '');
  assert.ok(parsed !== undefined, `%memory's live bytes for ${device} are not a size: ${JSON.stringify(row.cells[column])}\n${memory}`);
  return parsed;
}

/** %memory's "host arrays" for a GPU: its tensors whose values tfjs keeps on the host (not in live). */
export function hostArrayBytes(memory: string, device: string): { bytes: number; error: number } {
  const table = parseTextTable(memory);
  assert.ok(table !== undefined, `%memory printed no table:\n${memory}`);
  const column = table.header.findIndex((title) => /host arrays/i.test(title));
  assert.ok(column >= 0, `%memory has no "host arrays" column:\n${memory}`);
  const row = table.rows.find(({ cells }) => (cells[0] ?? '').replace(/^[*>\s]+/, '') === device);
  assert.ok(row !== undefined, `%memory has no row for ${device}:\n${memory}`);
  const parsed = parseBytes(row.cells[column] ?? '');
  assert.ok(parsed !== undefined, `%memory's host arrays for ${device} are not a size: ${JSON.stringify(row.cells[column])}\n${memory}`);
  return parsed;
}

const DIRECTION = /(^|\s)(H2D|D2H|D2D)(\s|$)/;

/** %transfers' lines that describe moves (those naming a direction). */
export function transferLines(transfers: string): string[] {
  return transfers.split('\n').filter((line) => DIRECTION.test(line));
}

export interface TransferRow {
  /** The line as printed. */
  text: string;
  /** How many moves it stands for: its "moves" (or "count") column where the table groups them, else 1. */
  moves: number;
  /** Its "bytes" column parsed, where there is one. */
  bytes: { bytes: number; error: number } | undefined;
}

/** %transfers' move lines with how many moves each stands for and their bytes. */
export function transferRows(transfers: string): TransferRow[] {
  const table = parseTextTable(transfers);
  if (table === undefined) return transferLines(transfers).map((text) => ({ text, moves: 1, bytes: undefined }));
  const movesColumn = table.header.findIndex((title) => /^(moves|count)$/i.test(title));
  const bytesColumn = table.header.findIndex((title) => /^bytes$/i.test(title));
  return table.rows.filter(({ line }) => DIRECTION.test(line)).map(({ line, cells }) => {
    const moves = movesColumn < 0 ? 1 : Number(cells[movesColumn]);
    assert.ok(Number.isInteger(moves) && moves > 0, `not a move count: ${JSON.stringify(cells[movesColumn])} in\n${transfers}`);
    return { text: line, moves, bytes: bytesColumn < 0 ? undefined : parseBytes(cells[bytesColumn] ?? '') };
  });
}

/** Moves in total over the rows. */
export function movesIn(rows: readonly TransferRow[]): number {
  return rows.reduce((sum, row) => sum + row.moves, 0);
}

/** Matches exactly `bytes` bytes written as bytes ("1024 B" or "1,024 B"), not a rounded "1.00 KiB". */
export function exactBytes(bytes: number): RegExp {
  const plain = String(bytes);
  const grouped = bytes.toLocaleString('en-US');
  const either = plain === grouped ? plain : `(?:${plain}|${grouped})`;
  return new RegExp(`(^|[^\\d.,])${either} ?B\\b`);
}

/** Asserts one %transfers line says all of it: direction, exact bytes, cause, op, and where (every miss listed). */
export function assertTransfer(line: string | undefined, expected: {
  direction: 'H2D' | 'D2H' | 'D2D';
  bytes: number;
  cause: 'explicit' | 'implicit';
  op: string;
  cell: number;
  line: number;
  /** false: the size may be shown rounded ("1.00 KiB"), for tests about something else than the bytes shown. */
  exact?: boolean;
}, table: string): void {
  assert.ok(line !== undefined, `no transfer line in %transfers:\n${table}`);
  const sizes = [...line.matchAll(/(?:^|\s)(-?[\d,]+(?:\.\d+)?\s?(?:B|KiB|MiB|GiB))(?=\s|$)/g)]
    .map((match) => parseBytes(match[1] ?? '')).filter((size) => size !== undefined);
  const sizeShown = expected.exact === false
    ? sizes.some((size) => Math.abs(size.bytes - expected.bytes) <= size.error)
    : exactBytes(expected.bytes).test(line);
  const word = (text: string): RegExp => new RegExp(`(^|\\s)${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`);
  const misses = [
    word(expected.direction).test(line) ? '' : `direction ${expected.direction}`,
    sizeShown ? '' : expected.exact === false ? `a size of ${expected.bytes} B` : `exact bytes "${expected.bytes} B"`,
    word(expected.cause).test(line) ? '' : `cause ${expected.cause}`,
    word(expected.op).test(line) ? '' : `op ${expected.op}`,
    line.includes(`cell ${expected.cell}, line ${expected.line}`) ? '' : `where "cell ${expected.cell}, line ${expected.line}"`,
  ].filter((miss) => miss !== '');
  assert.deepEqual(misses, [], `the move line lacks ${misses.join(', ')}:\n${line}\nin\n${table}`);
}

/** The line of the one move %transfers lists (fails when it lists none, or more than one). */
export function onlyMove(transfers: string): string {
  const rows = transferRows(transfers);
  assert.equal(movesIn(rows), 1, `one move expected:\n${transfers}`);
  return (rows[0] as TransferRow).text;
}
