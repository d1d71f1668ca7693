// The inline device report seen from a client: the one display_data a cell that touched tensors
// ends with (text/plain line, HTML table, SVG timeline, the ledger as JSON in metadata.tsgpu),
// and the progress displays that update in place. One kernel per file, with Mesa's shader cache on
// disk and a generous deadline per cell (lavapipe, the software GPU that is gpu:0 here, compiles
// each shader on first use).
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { executeReply, iopubKinds, iopubOf, streamText } from './exchange';
import { useKernel } from './fixtures';
import type { Exchange, KernelClient, Received } from './kernel-client';
import type { ContentOf } from './message-schema';
import { arrayOf, bool, Infer, literal, nonNegativeInt, nullValue, obj, optional, Schema, str, tuple, union } from './schema';

/** Per request: a cell's first GPU op may compile several shaders on two shared cores. */
export const REPORT_TIMEOUT_MS = 60_000;

/**
 * One kernel for the file's tests. Mesa keeps compiled shaders in MESA_SHADER_CACHE_DIR between
 * runs; the kernel inherits this process's environment, so setting it here is enough.
 */
export function useReportKernel(): () => KernelClient {
  process.env['MESA_SHADER_CACHE_DIR'] ??= path.join(tmpdir(), 'tsgpu-mesa-shader-cache');
  return useKernel({ readyTimeoutMs: REPORT_TIMEOUT_MS });
}

/** Runs a cell with the report deadline, whatever its outcome. */
export function runCell(kernel: KernelClient, code: string): Promise<Exchange> {
  return kernel.execute(code, {}, { timeoutMs: REPORT_TIMEOUT_MS });
}

/** What a cell showed, for assertion messages. */
export function describeCell(exchange: Exchange): string {
  const lines = [`iopub: ${iopubKinds(exchange).join(', ')}`];
  for (const error of iopubOf(exchange, 'error')) lines.push(`${error.ename}: ${error.evalue}\n${error.traceback.join('\n')}`);
  for (const display of [...iopubOf(exchange, 'display_data'), ...iopubOf(exchange, 'update_display_data')]) {
    lines.push(`display: ${JSON.stringify(display.data['text/plain'])}`);
  }
  lines.push(`stdout: ${JSON.stringify(streamText(exchange, 'stdout'))}`, `stderr: ${JSON.stringify(streamText(exchange, 'stderr'))}`);
  return lines.join('\n');
}

/** Runs a cell that must succeed; its exchange. */
export async function runOk(kernel: KernelClient, code: string): Promise<Exchange> {
  const exchange = await runCell(kernel, code);
  assert.equal(executeReply(exchange).status, 'ok', `cell ${JSON.stringify(code)} failed:\n${describeCell(exchange)}`);
  return exchange;
}

/** The execution count of a cell that ran (N in "[tsgpu] cell N"). */
export function countOf(exchange: Exchange): number {
  const count = executeReply(exchange).execution_count;
  assert.ok(typeof count === 'number', `execute_reply without execution_count: ${JSON.stringify(exchange.reply.content)}`);
  return count;
}

// ---- metadata.tsgpu ---------------------------------------------------------------------------

const num: Schema<number> = {
  describe: 'finite number',
  check: (value, at) => (typeof value === 'number' && Number.isFinite(value) ? [] : [`${at}: expected finite number, got ${JSON.stringify(value)}`]),
};
const nonNegative: Schema<number> = {
  describe: 'number >= 0',
  check: (value, at) => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? [] : [`${at}: expected number >= 0, got ${JSON.stringify(value)}`]),
};

export const reportTransferSchema = obj({
  direction: literal('H2D', 'D2H', 'D2D', 'host'),
  from: str,
  to: str,
  bytes: nonNegativeInt,
  ms: nonNegative,
  waitMs: nonNegative,
  copyMs: nonNegative,
  // afterCopy: the move's answer on its way back to the cell's code, after the copy (its last waits).
  // from: a collection's wait lies where the collection did, ms from the move's start.
  waits: arrayOf(obj({
    cause: literal('gpu-work', 'gpu-latency', 'gpu-setup', 'staging-setup', 'host-busy', 'gc', 'tsgpu'), ms: nonNegative, device: str,
    earlierCells: arrayOf(nonNegativeInt), afterCopy: optional(literal(true)), from: optional(nonNegative),
  })),
  cause: literal('explicit', 'implicit'),
  operation: str,
  line: union(nonNegativeInt, nullValue),
  at: num,
  scalar: bool,
  via: obj({ by: literal('user', 'library', 'kernel'), call: union(str, nullValue), invocation: nonNegativeInt, perBatchLogs: optional(bool) }),
  inLoop: bool,
  someIterations: optional(literal(true)),
  reverses: union(nullValue, obj({ operation: str, cell: nonNegativeInt, toCurrentDevice: bool })),
  /** A policy's move: the op's input already on the destination, which drew the op there. */
  anchor: optional(obj({
    name: union(str, nullValue),
    placedBy: union(nullValue, obj({ by: literal('user', 'policy'), operation: str, cell: nonNegativeInt })),
    onCurrentDevice: bool,
    /** How the line names it, where it does. */
    said: optional(str),
  })),
  legs: optional(arrayOf(obj({ from: str, to: str, bytes: nonNegativeInt, waitMs: nonNegative, copyMs: nonNegative, waits: arrayOf(obj({ cause: literal('gpu-work', 'gpu-latency', 'gpu-setup', 'staging-setup', 'host-busy'), ms: nonNegative, device: str, earlierCells: arrayOf(nonNegativeInt) })) }))),
  /** A policy's move: the variable the op's line passed as the moved input, where the line says. */
  input: optional(str),
  /** Host values made on a GPU, uploaded by tfjs at first use: bytes exact, time not measured. */
  untimed: optional(literal(true)),
  /** Of those, a tensor a library call made of its own from host values inside it (fit's batch indices). */
  callsOwn: optional(literal(true)),
  /** `input` names the model a moved weight belongs to. */
  modelInput: optional(literal(true)),
  /** A move made in a function the cell's loop called: that function's line. */
  helper: optional(obj({ cell: nonNegativeInt, line: nonNegativeInt })),
  /** Only for a line of another cell. */
  cell: optional(nonNegativeInt),
});

export const deviceUseSchema = obj({
  device: str,
  software: bool,
  ops: nonNegativeInt,
  /** Of ops, those a GPU's tfjs backend ran on the host (WEBGPU_CPU_FORWARD). */
  hostOps: nonNegativeInt,
  opMs: nonNegative,
  spans: arrayOf(tuple(num, num)),
  /** In the device's own memory (GPU buffers for a GPU). */
  liveBytes: nonNegativeInt,
  liveBytesBefore: nonNegativeInt,
  /** A GPU's tensors whose values tfjs keeps in host arrays: not in liveBytes. */
  heldOnHostBytes: nonNegativeInt,
  kernels: union(nullValue, arrayOf(tuple(str, nonNegativeInt))),
  hostKernels: optional(union(nullValue, arrayOf(tuple(str, nonNegativeInt)))),
  gpu: union(nullValue, obj({
    ms: nonNegative,
    source: literal('timestamps', 'fenced'),
    earlierCellsMs: nonNegative,
    earlierCells: arrayOf(nonNegativeInt),
    /** Not in ms: earlier cells' work first timed with this cell that ran before it began. */
    ranBeforeMs: nonNegative,
    ranBeforeCells: arrayOf(nonNegativeInt),
    stillBusy: bool,
    /** With stillBusy: the cells that queued the work still running, when none of it was this cell's. */
    busyWithOthers: optional(arrayOf(nonNegativeInt)),
    /** tfjs held recorded work unsubmitted until the cell ended, the GPU done with the rest. */
    heldBack: optional(literal(true)),
    spans: arrayOf(tuple(num, num)),
    untimedPasses: optional(nonNegativeInt),
    /** Not in ms: detached work's busy time during the cell. */
    detachedMs: optional(nonNegative),
  })),
});

export const profileRowSchema = obj({
  op: str,
  device: str,
  calls: nonNegativeInt,
  hostMs: nonNegative,
  gpuMs: union(nonNegative, nullValue),
  bytesIn: nonNegativeInt,
  bytesOut: nonNegativeInt,
});

export const foldedTransferSchema = obj({
  direction: literal('H2D', 'D2H', 'D2D', 'host'),
  from: str,
  to: str,
  cause: literal('explicit', 'implicit'),
  operation: str,
  line: union(nonNegativeInt, nullValue),
  count: nonNegativeInt,
  bytes: nonNegativeInt,
  ms: nonNegative,
  waitMs: nonNegative,
  copyMs: nonNegative,
});

export const reportMetadataSchema = obj({
  cell: nonNegativeInt,
  durationMs: nonNegative,
  devices: arrayOf(deviceUseSchema),
  transfers: arrayOf(reportTransferSchema),
  foldedTransfers: arrayOf(foldedTransferSchema),
  profile: union(nullValue, arrayOf(profileRowSchema)),
  hints: arrayOf(str),
});

export type ReportTransfer = Infer<typeof reportTransferSchema>;
export type DeviceUse = Infer<typeof deviceUseSchema>;
export type ReportMetadata = Infer<typeof reportMetadataSchema>;

// ---- the report display -----------------------------------------------------------------------

export interface Report {
  /** data['text/plain'] */
  text: string;
  /** data['text/html'] */
  html: string;
  /** data['image/svg+xml'], undefined when absent. */
  svg: string | undefined;
  /** metadata.tsgpu, validated. */
  meta: ReportMetadata;
  content: ContentOf<'display_data'>;
}

const REPORT_PREFIX = '[tsgpu] cell ';

/** A display_data is the report when it carries metadata.tsgpu or its text starts with "[tsgpu] cell ". */
function isReport(display: ContentOf<'display_data'>): boolean {
  const text = display.data['text/plain'];
  return 'tsgpu' in display.metadata || (typeof text === 'string' && text.startsWith(REPORT_PREFIX));
}

/** The cell's report displays, in order (exactly one expected after a cell that touched tensors). */
/**
 * Where a move's copy ran, from its metadata: after its waits before the copy, up to those marked
 * afterCopy (its answer's way back to the cell's code, the time held after a small write).
 */
export function copySpan(move: { at: number; ms: number; waitMs: number; waits: readonly { ms: number; afterCopy?: true }[] }): { start: number; end: number } {
  const after = move.waits.filter((wait) => wait.afterCopy === true).reduce((sum, wait) => sum + wait.ms, 0);
  return { start: move.at + move.waitMs - after, end: move.at + move.ms - after };
}

export function reportsOf(exchange: Exchange): ContentOf<'display_data'>[] {
  return iopubOf(exchange, 'display_data').filter(isReport);
}

/** Reads and validates one report display. */
export function readReport(content: ContentOf<'display_data'>): Report {
  const text = content.data['text/plain'];
  const html = content.data['text/html'];
  const svg = content.data['image/svg+xml'];
  assert.equal(typeof text, 'string', `the report has no text/plain: ${JSON.stringify(content.data).slice(0, 400)}`);
  assert.equal(typeof html, 'string', `the report has no text/html: ${JSON.stringify(content.data).slice(0, 400)}`);
  assert.ok(svg === undefined || typeof svg === 'string', `image/svg+xml is not a string: ${String(JSON.stringify(svg)).slice(0, 200)}`);
  const meta = content.metadata['tsgpu'];
  const problems = reportMetadataSchema.check(meta, 'metadata.tsgpu');
  assert.deepEqual(problems, [], `metadata.tsgpu does not match the contract: ${String(JSON.stringify(meta)).slice(0, 1500)}`);
  return { text: text as string, html: html as string, svg: svg as string | undefined, meta: meta as ReportMetadata, content };
}

/**
 * The one report of a cell: exactly one report display, the last message before status idle
 * (after the cell's own outputs), whose metadata.tsgpu.cell is the cell's execution count.
 */
export function theReport(exchange: Exchange): Report {
  const reports = reportsOf(exchange);
  assert.equal(reports.length, 1, `exactly one report expected:\n${describeCell(exchange)}`);
  const last = exchange.iopub.filter((msg) => msg.header.msg_type !== 'status').at(-1);
  assert.ok(last !== undefined && last.header.msg_type === 'display_data' && isReport(last.content as ContentOf<'display_data'>),
    `the report should come after the cell's own output, right before idle:\n${describeCell(exchange)}`);
  const report = readReport(reports[0] as ContentOf<'display_data'>);
  assert.equal(report.meta.cell, countOf(exchange), 'metadata.tsgpu.cell is the execution count');
  return report;
}

/** Runs a cell that must succeed and show one report; the report. */
export async function reportOf(kernel: KernelClient, code: string): Promise<Report> {
  return theReport(await runOk(kernel, code));
}

/** Asserts that a cell showed no report. */
export function assertNoReport(exchange: Exchange, code: string): void {
  assert.deepEqual(reportsOf(exchange).map((display) => display.data['text/plain']), [],
    `cell ${JSON.stringify(code)} should show no report:\n${describeCell(exchange)}`);
}

export function deviceOf(report: Report, device: string): DeviceUse {
  const use = report.meta.devices.find((entry) => entry.device === device);
  assert.ok(use !== undefined, `metadata.tsgpu.devices has no ${device}: ${JSON.stringify(report.meta.devices)}`);
  return use;
}

/** The first line of text/plain, split as the contract writes it. */
export interface ReportLine {
  cell: number;
  devices: string;
  transfers: string;
  live: string | undefined;
}

/** `[tsgpu] cell N: <devices> | <transfers> | live <memory>`; the live part may be missing. */
export function parseReportLine(line: string): ReportLine {
  const match = /^\[tsgpu\] cell (\d+): (.+?) \| (.+?)(?: \| live (.+))?$/.exec(line);
  assert.ok(match !== null, `first line is not "[tsgpu] cell N: <devices> | <transfers> | live …": ${JSON.stringify(line)}`);
  return { cell: Number(match[1]), devices: match[2] ?? '', transfers: match[3] ?? '', live: match[4] };
}

/** The `  hint: …` lines after the first line of text/plain. */
export function hintLines(text: string): string[] {
  return text.split('\n').slice(1).filter((line) => line.trim() !== '').map((line) => {
    const match = /^ {2}hint: (.+)$/.exec(line);
    assert.ok(match !== null, `a line after the first is not "  hint: …": ${JSON.stringify(line)}`);
    return match[1] ?? '';
  });
}

const DECIMAL: Record<string, number> = { B: 1, KB: 1e3, kB: 1e3, MB: 1e6, GB: 1e9, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** "4.10 KB" -> bytes, and how far off the rounding shown may be (half a unit in the last digit). */
export function parseSize(text: string): { bytes: number; error: number } {
  const match = /^([\d,]+)(?:\.(\d+))?\s*(B|KB|kB|MB|GB|KiB|MiB|GiB)$/.exec(text.trim());
  assert.ok(match !== null, `not a size: ${JSON.stringify(text)}`);
  const unit = DECIMAL[match[3] ?? 'B'] ?? 1;
  const decimals = match[2] ?? '';
  const value = Number(`${(match[1] ?? '').replace(/,/g, '')}.${decimals || '0'}`);
  return { bytes: value * unit, error: unit === 1 ? 0 : unit / 10 ** decimals.length / 2 };
}

export function assertSize(text: string, bytes: number, what: string): void {
  const size = parseSize(text);
  assert.ok(Math.abs(size.bytes - bytes) <= size.error + 1e-9, `${what}: ${JSON.stringify(text)} is not ${bytes} B`);
}

/** Text of an HTML fragment: tags dropped, entities decoded, spaces collapsed. */
export function htmlText(html: string): string {
  return html.replace(/<[^>]*>/g, ' ')
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ').trim();
}

/** The text of each <li> in an HTML fragment. */
export function listItems(html: string): string[] {
  return [...html.matchAll(/<li\b[^>]*>([\s\S]*?)<\/li>/g)].map((match) => htmlText(match[1] ?? ''));
}

/** The <table class="… tsgpu-report-table …">…</table> of the report's HTML (undefined if none). */
export function reportTableOf(html: string): string | undefined {
  return /<table\b[^>]*\bclass="[^"]*\btsgpu-report-table\b[^"]*"[^>]*>[\s\S]*?<\/table>/.exec(html)?.[0];
}

/** Where the timeline (<img class="… tsgpu-timeline …">) starts in the HTML, or -1. */
export function timelineIndex(html: string): number {
  return html.search(/<img\b[^>]*\bclass="[^"]*\btsgpu-timeline\b/);
}

/** The SVG the HTML's timeline image shows (decoded from its data URI), or undefined. */
export function timelineImageSvg(html: string): string | undefined {
  const src = /<img\b[^>]*\bclass="[^"]*\btsgpu-timeline\b[^>]*\bsrc="data:image\/svg\+xml;base64,([^"]+)"/.exec(html)?.[1];
  return src === undefined ? undefined : Buffer.from(src, 'base64').toString('utf8');
}

/** Table rows as cell texts (th and td). */
export function tableRows(table: string): string[][] {
  return [...table.matchAll(/<tr\b[^>]*>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...(row[1] ?? '').matchAll(/<t[hd]\b[^>]*>([\s\S]*?)<\/t[hd]>/g)].map((cell) => htmlText(cell[1] ?? '')));
}

// ---- progress displays ------------------------------------------------------------------------

export interface ProgressDisplays {
  displayId: string;
  first: ContentOf<'display_data'>;
  updates: ContentOf<'update_display_data'>[];
  /** text/plain of the first display, then of each update, in order. */
  texts: string[];
}

/**
 * The one progress display of a cell: one display_data with transient.display_id (not the
 * report), then update_display_data messages carrying the same display_id, and nothing else
 * updated or shown under that id.
 */
export function progressOf(exchange: Exchange): ProgressDisplays {
  const shown = iopubOf(exchange, 'display_data').filter((display) => !isReport(display));
  assert.equal(shown.length, 1, `one progress display_data expected:\n${describeCell(exchange)}`);
  const first = shown[0] as ContentOf<'display_data'>;
  const displayId = first.transient['display_id'];
  assert.ok(typeof displayId === 'string' && displayId !== '',
    `the progress display_data has no transient.display_id: ${JSON.stringify(first.transient)}`);
  const updates = iopubOf(exchange, 'update_display_data');
  assert.ok(updates.length >= 1, `no update_display_data after the progress display:\n${describeCell(exchange)}`);
  for (const update of updates) assert.equal(update.transient.display_id, displayId, 'every update carries the display_id of the first display');
  const firstIndex = exchange.iopub.findIndex((msg: Received) => msg.header.msg_type === 'display_data'
    && (msg.content as ContentOf<'display_data'>).transient['display_id'] === displayId);
  const firstUpdate = exchange.iopub.findIndex((msg: Received) => msg.header.msg_type === 'update_display_data');
  assert.ok(firstIndex < firstUpdate, 'the display_data comes before its updates');
  const texts = [first, ...updates].map((display) => {
    const text = display.data['text/plain'];
    assert.equal(typeof text, 'string', `a progress display without text/plain: ${JSON.stringify(display.data).slice(0, 300)}`);
    return text as string;
  });
  return { displayId, first, updates, texts };
}

/**
 * A cell that puts the kernel on gpu:0 with a 512x512 `M` read once (the GPU set up and warm) and
 * `ownGpu`, gpu:0's tfjs backend, for a fence of the cell's own and to submit what tfjs holds.
 */
/** What a cell printed as `tag {json}` (`console.log(`tag ${JSON.stringify(x)}`)`): its own measurements. */
export function seenIn<T>(exchange: Exchange, tag: string): T {
  const text = streamText(exchange, 'stdout');
  const match = new RegExp(`${tag} (\\{.*\\})`).exec(text);
  assert.ok(match, `no "${tag}" line in ${JSON.stringify(text)}`);
  return JSON.parse(match[1]!) as T;
}

/**
 * After OWN_GPU_SETUP, with the GPU idle: sets `matMuls` to how many of M's matMuls make ~2.5 s of
 * GPU work on this machine (lavapipe's pace follows the load), for work that must outlast a cell.
 */
export const MATMULS_FOR_SECONDS = [
  'let probe = M;',
  'const probeFrom = performance.now();',
  'for (let i = 0; i < 4; i++) probe = probe.matMul(M).div(100);',
  'await probe.slice([0, 0], [1, 1]).data();',
  'const matMuls = Math.min(200, Math.max(8, Math.ceil(2500 / ((performance.now() - probeFrom) / 4))));',
].join('\n');

/**
 * Cell lines: from here on each 8 MiB buffer gpu:0's device makes is timed into `made` ([start,
 * end] pairs), and a readback buffer's first map too (lavapipe backs it then): how long the
 * staging set-up took, measured by the cell. `gpuDevice` is the device. A new tensor buffer an
 * upload clears before its first chunk is timed into `cleared`, from the clear's recording until
 * the fence the upload awaits after it came back; `clearing.from` is set from the clear's
 * recording until that fence is asked for (its submit among them).
 */
export const TIMED_STAGING_BUFFERS = [
  'const made: number[][] = [], cleared: number[][] = [];',
  'const clearing: { from: number | null } = { from: null };',
  'type Descriptor = { size: number; usage: number; mappedAtCreation?: boolean };',
  'type Made = { mapAsync(mode: number, offset?: number, size?: number): Promise<void> };',
  'type Encoder = { clearBuffer(buffer: unknown, ...rest: unknown[]): void };',
  'const gpuDevice = (tf.engine() as unknown as { registry: Record<string, { device: { createBuffer(descriptor: Descriptor): Made; createCommandEncoder(...args: unknown[]): Encoder; '
    + 'queue: { submit(buffers: unknown[]): void; onSubmittedWorkDone(): Promise<void> } } }> }).registry["gpu:0"]!.device;',
  'const createCommandEncoder = gpuDevice.createCommandEncoder.bind(gpuDevice);',
  'gpuDevice.createCommandEncoder = (...args: unknown[]) => {',
  '  const encoder = createCommandEncoder(...args);',
  '  const clearBuffer = encoder.clearBuffer.bind(encoder);',
  '  encoder.clearBuffer = (buffer: unknown, ...rest: unknown[]) => { clearing.from = performance.now(); clearBuffer(buffer, ...rest); };',
  '  return encoder;',
  '};',
  'const workDone = gpuDevice.queue.onSubmittedWorkDone.bind(gpuDevice.queue);',
  'gpuDevice.queue.onSubmittedWorkDone = () => {',
  '  const from = clearing.from;',
  '  clearing.from = null;',
  '  const done = workDone();',
  '  return from === null ? done : done.then(() => { cleared.push([from, performance.now()]); });',
  '};',
  'const createBuffer = gpuDevice.createBuffer.bind(gpuDevice);',
  'gpuDevice.createBuffer = (descriptor: Descriptor) => {',
  '  const t = performance.now();',
  '  const buffer = createBuffer(descriptor);',
  '  if (descriptor.size !== 8 * 1024 * 1024) return buffer;',
  '  made.push([t, performance.now()]);',
  '  if ((descriptor.usage & 1) !== 0) {',
  '    const mapAsync = buffer.mapAsync.bind(buffer);',
  '    let first = true;',
  '    buffer.mapAsync = (mode: number, offset?: number, size?: number) => {',
  '      if (!first) return mapAsync(mode, offset, size);',
  '      first = false;',
  '      const m = performance.now();',
  '      return mapAsync(mode, offset, size).then(() => { made.push([m, performance.now()]); });',
  '    };',
  '  }',
  '  return buffer;',
  '};',
];

/**
 * A cell line: gpu:0's op outputs of these many float32 elements, made and freed, so that uploads of
 * those sizes land in pooled buffers and clear no new one (the clear is set-up of its own,
 * report-upload-new-buffer.test.ts). Made by an op, not an upload, and not read: the staging pools stay as they were.
 */
export function pooledTensorBuffers(elements: readonly number[]): string {
  // A 4 KiB input: written straight to the GPU (no staging buffer), and big enough that tfjs tiles it there, not on the host.
  return `{ const pads = await withDevice('gpu:0', () => [${elements.join(', ')}].map((n) => tf.ones([1024]).tile([n / 1024]))); `
    + 'tf.dispose(pads); '
    // Their work submitted and done here: it would otherwise run at the cell's end, and later cells' moves wait for it.
    + 'const gpu = (tf.engine() as unknown as { registry: Record<string, { commandEncoder: unknown; endComputePassEncoder(): void; submitQueue(): void; '
    + 'device: { queue: { onSubmittedWorkDone(): Promise<void> } } }> }).registry["gpu:0"]!; '
    + 'if (gpu.commandEncoder) { gpu.endComputePassEncoder(); gpu.submitQueue(); } await gpu.device.queue.onSubmittedWorkDone(); }';
}

export const OWN_GPU_SETUP = [
  '%device gpu:0',
  'const ownGpu = (tf.engine() as unknown as { registry: Record<string, { device: { queue: { onSubmittedWorkDone(): Promise<void> } }; commandEncoder: unknown; endComputePassEncoder(): void; submitQueue(): void }> }).registry["gpu:0"]!;',
  // Submits what tfjs holds recorded; nothing when its last batch was full and went already (submitQueue would throw).
  'const submitOwnGpu = () => { if (ownGpu.commandEncoder) { ownGpu.endComputePassEncoder(); ownGpu.submitQueue(); } };',
  'const M = tf.randomNormal([512, 512]);',
  'await M.matMul(M).div(100).slice([0, 0], [1, 1]).data();',
].join('\n');
