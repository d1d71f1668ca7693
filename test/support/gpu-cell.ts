// TypeScript for test cells that measure the GPU themselves, beside what the report says: a typed
// handle on gpu:0's tfjs backend and Dawn device (WebGPU's numeric flags, since cells have no DOM
// types), a flush of what tfjs recorded, and the test's own timestamp-query measurement.

/** Declares `gpu` (gpu:0's backend) and `flushGpu()` in a cell. */
export const GPU_HANDLE = [
  'type TestBuffer = { mapAsync(mode: number): Promise<void>; getMappedRange(): ArrayBuffer; unmap(): void; destroy(): void };',
  'type TestEncoder = { beginComputePass(descriptor: object): { end(): void }; resolveQuerySet(set: unknown, first: number, count: number, into: TestBuffer, offset: number): void;',
  '  copyBufferToBuffer(from: TestBuffer, fromOffset: number, to: TestBuffer, toOffset: number, size: number): void; finish(): unknown };',
  'type TestDevice = { createQuerySet(descriptor: { type: "timestamp"; count: number }): unknown; createBuffer(descriptor: { size: number; usage: number }): TestBuffer;',
  '  createCommandEncoder(): TestEncoder; queue: { submit(buffers: unknown[]): void; onSubmittedWorkDone(): Promise<void> } };',
  'const gpu = (tf.engine() as unknown as { registry: Record<string, unknown> }).registry["gpu:0"] as { device: TestDevice; commandEncoder: unknown; endComputePassEncoder(): void; submitQueue(): void };',
  'const flushGpu = () => { if (gpu.commandEncoder) { gpu.endComputePassEncoder(); gpu.submitQueue(); } };',
].join('\n');

/**
 * Declares `stampGpu(index)`: an empty compute pass on gpu:0's queue that writes a GPU timestamp
 * (index 0 at its start, 1 at its end), and `readStamps()`: the ms between them, from the GPU's clock.
 * `openingStamp()` records index 0 without submitting it: submitted after the cell has recorded its
 * work, right before that work's own submit, the GPU does not sit idle between the two while the
 * host records (on a loaded machine that idle time was 100–170 ms of a 600 ms measurement).
 */
export const GPU_STAMPS = [
  'const stampSet = gpu.device.createQuerySet({ type: "timestamp", count: 2 });',
  'const stampResolve = gpu.device.createBuffer({ size: 16, usage: 0x200 | 0x4 });',
  'const stampRead = gpu.device.createBuffer({ size: 16, usage: 0x1 | 0x8 });',
  'const stampCommands = (index: number) => {',
  '  const encoder = gpu.device.createCommandEncoder();',
  '  encoder.beginComputePass({ timestampWrites: index === 0 ? { querySet: stampSet, beginningOfPassWriteIndex: 0 } : { querySet: stampSet, endOfPassWriteIndex: 1 } }).end();',
  '  if (index === 1) { encoder.resolveQuerySet(stampSet, 0, 2, stampResolve, 0); encoder.copyBufferToBuffer(stampResolve, 0, stampRead, 0, 16); }',
  '  return encoder.finish();',
  '};',
  'const stampGpu = (index: number) => gpu.device.queue.submit([stampCommands(index)]);',
  'const openingStamp = () => stampCommands(0);',
  'const readStamps = async () => { await stampRead.mapAsync(1); const stamps = new BigInt64Array(stampRead.getMappedRange()); const ms = Number(stamps[1] - stamps[0]) / 1e6; stampRead.unmap(); return ms; };',
].join('\n');

/** The number a cell printed as `<label> <number>`. */
export function printedNumber(stdout: string, label: string): number {
  const match = new RegExp(`${label} (-?\\d+(?:\\.\\d+)?)`).exec(stdout);
  if (match === null) throw new Error(`the cell printed no "${label} <number>": ${JSON.stringify(stdout)}`);
  return Number(match[1]);
}

/** Length of the parts of `spans` inside [from, to]. */
export function overlapMs(spans: [number, number][], from: number, to: number): number {
  return spans.reduce((sum, [start, end]) => sum + Math.max(0, Math.min(end, to) - Math.max(start, from)), 0);
}

/** Cell code: deterministic bit patterns (NaN payloads, -0 and denormals included) and a byte-exact comparison. */
export const BYTE_HELPERS = `
function bitPattern(count: number, seed: number): Uint32Array {
  const out = new Uint32Array(count);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0;
    out[i] = state;
  }
  return out;
}
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
`;
