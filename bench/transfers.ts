// Transfer benchmark: host↔GPU moves through tsgpu beside tfjs's default path and raw Dawn, on the
// same GPU in the same run.
//
//   npm run bench:transfers [-- --quick] [-- --sizes 4B,1M,16M,64M,256M,1G]
//
// Per size, in separate processes (a 1 GiB run must not share memory with the next; a crash in
// one is reported, not fatal): (a) tsgpu's `await x.to('gpu:0')`, `await x.cpu()` and
// `await x.data()` of a tensor only the GPU holds; (b) tfjs's default upload (a tensor made on the
// GPU backend, uploadToGPU) and readback (data()); (c) raw Dawn queue.writeBuffer and a map-read
// into a reused host array. GB/s, median after one warm-up; µs below 1 MiB, where latency is the
// figure. Targets (issue 8): on a real GPU >= 10 GB/s H2D and >= 8 GB/s D2H at 64 MiB and above,
// and >= 4x tfjs's default; on a software GPU (lavapipe) >= 1.0x tfjs's default at every size.
// TSGPU_STAGING=16x2 (MiB per staging buffer × buffers per direction) tries another pool shape.
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { EngineLike } from '../kernel/device/engine-internals';
import { DeviceRegistry } from '../kernel/device/registry';
import { DeviceLayer } from '../kernel/device/device-layer';
import { loadTfjs } from '../kernel/device/tfjs';
import { stagingLimits } from '../kernel/device/transfer/staging-pool';
import { NO_CELL_WORK } from '../kernel/interpreter/cell-hooks';
import {
  type BaselineDevice, median, parseSize, patterned, rawMapRead, rawWriteBuffer, sizeLabel as label, tfjsReadback, tfjsUpload, type Timing,
} from './lib/transfer-baselines';

const MiB = 2 ** 20;
const SIZES = [4, MiB, 16 * MiB, 64 * MiB, 256 * MiB, 1024 * MiB];

interface TsgpuFigures { to: number; cpu: number; data: number }
interface BaselineFigures { tfjsUpload: number; tfjsData: number; rawWrite: number; rawRead: number }
interface Row { bytes: number; tsgpu: TsgpuFigures | string; baseline: BaselineFigures | string }
interface GpuName { description: string; software: boolean }

function repeatsFor(bytes: number): number {
  return bytes < MiB ? 50 : bytes <= 16 * MiB ? 9 : bytes <= 64 * MiB ? 5 : bytes <= 256 * MiB ? 3 : 2;
}

async function gpuLayer() {
  const layer = new DeviceLayer({ locate: () => null, locateLater: () => () => null, emit: () => undefined, cells: NO_CELL_WORK });
  const devices = await layer.control();
  await devices.setCurrent('gpu:0');
  await devices.setCurrent('cpu');
  const gpu = (await devices.list()).find((device) => device.name === 'gpu:0')!;
  return { devices, gpu: { description: gpu.description, software: gpu.software } };
}

/** Child: tsgpu's moves of one size, seconds per move (median). */
async function tsgpuChild(bytes: number): Promise<TsgpuFigures & GpuName> {
  const { devices, gpu } = await gpuLayer();
  const { core } = await loadTfjs();
  const host = patterned(bytes / 4);
  const times = { to: [] as number[], cpu: [] as number[], data: [] as number[] };
  const repeats = repeatsFor(bytes);
  for (let run = 0; run <= repeats; run++) {
    const x = core.tensor(host) as unknown as { to(d: string): Promise<unknown>; cpu(): Promise<unknown>; dataSync(): Float32Array; data(): Promise<Float32Array>; dispose(): void };
    let started = performance.now();
    await x.to('gpu:0');
    await devices.synchronize();
    const to = performance.now() - started;
    started = performance.now();
    await x.cpu();
    const cpu = performance.now() - started;
    if (run === 0 && !Buffer.from(x.dataSync().buffer, x.dataSync().byteOffset, bytes).equals(Buffer.from(host.buffer))) throw new Error('a round trip changed the data');
    x.dispose();
    const y = core.tensor(host) as unknown as typeof x;
    await y.to('gpu:0');
    await devices.synchronize();
    started = performance.now();
    const values = await y.data();
    const data = performance.now() - started;
    if (run === 0 && values[values.length - 1] !== host[host.length - 1]) throw new Error('data() read the wrong values');
    y.dispose();
    if (run === 0) continue;
    times.to.push(to / 1000);
    times.cpu.push(cpu / 1000);
    times.data.push(data / 1000);
  }
  return { to: median(times.to), cpu: median(times.cpu), data: median(times.data), ...gpu };
}

/** Child: tfjs's default path and raw Dawn for one size, on the same adapter, without tsgpu's hooks. */
async function baselineChild(bytes: number): Promise<BaselineFigures> {
  const { core } = await loadTfjs();
  await new DeviceRegistry(core).backend('gpu:0');
  const device = ((core.engine() as unknown as EngineLike).registry['gpu:0'] as unknown as { device: BaselineDevice }).device;
  const repeats = repeatsFor(bytes);
  const seconds = (timing: Timing): number => timing.seconds;
  return {
    rawWrite: seconds(await rawWriteBuffer(device, bytes, repeats)),
    rawRead: seconds(await rawMapRead(device, bytes, repeats, { into: 'reused' })),
    tfjsUpload: seconds(await tfjsUpload(core, 'gpu:0', bytes, repeats)),
    tfjsData: seconds(await tfjsReadback(core, 'gpu:0', bytes, repeats)),
  };
}

function child<T>(mode: string, bytes: number): T | string {
  try {
    const output = execFileSync(process.execPath, ['--max-old-space-size=8192', __filename, '--child', mode, String(bytes)], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * MiB,
    });
    return JSON.parse(output.trim().split('\n').pop()!) as T;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? (error as Error).message).trim().split('\n');
    return `failed: ${stderr.filter((line) => !/^\s+at /.test(line)).slice(-2).join(' ')}`;
  }
}

/** GB/s, or µs for small moves. */
function figure(bytes: number, seconds: number | undefined): string {
  if (seconds === undefined) return '–';
  return bytes < MiB ? `${(seconds * 1e6).toFixed(0)} µs` : (bytes / seconds / 1e9).toFixed(2);
}

function ratio(ours: number | undefined, theirs: number | undefined): string {
  return ours === undefined || theirs === undefined ? '–' : `${(theirs / ours).toFixed(2)}x`;
}

function sizesFromArguments(): number[] {
  const index = process.argv.indexOf('--sizes');
  if (index < 0) return process.argv.includes('--quick') ? SIZES.slice(0, 3) : SIZES;
  return process.argv[index + 1]!.split(',').map(parseSize);
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  let gpu: GpuName | null = null;
  for (const bytes of sizesFromArguments()) {
    const tsgpu = child<TsgpuFigures & GpuName>('tsgpu', bytes);
    if (typeof tsgpu !== 'string') gpu ??= { description: tsgpu.description, software: tsgpu.software };
    rows.push({ bytes, tsgpu, baseline: child<BaselineFigures>('baseline', bytes) });
  }
  const limits = stagingLimits();
  console.log(`gpu:0: ${gpu?.description ?? 'unknown'}${gpu?.software ? ' (software)' : ''}; staging ${limits.buffersPerDirection} × ${limits.chunkBytes / MiB} MiB per direction`);
  console.log('GB/s (µs per move below 1 MiB), median after one warm-up; ratio = tsgpu over tfjs\'s default (higher is better)');
  const header = ['size', 'to(gpu)', 'tfjs up', 'raw write', 'ratio', 'cpu()', 'data()', 'tfjs data', 'raw read', 'ratio cpu', 'ratio data'];
  const lines = rows.map(({ bytes, tsgpu, baseline }) => {
    const ours = typeof tsgpu === 'string' ? undefined : tsgpu;
    const base = typeof baseline === 'string' ? undefined : baseline;
    return [label(bytes), figure(bytes, ours?.to), figure(bytes, base?.tfjsUpload), figure(bytes, base?.rawWrite), ratio(ours?.to, base?.tfjsUpload),
      figure(bytes, ours?.cpu), figure(bytes, ours?.data), figure(bytes, base?.tfjsData), figure(bytes, base?.rawRead),
      ratio(ours?.cpu, base?.tfjsData), ratio(ours?.data, base?.tfjsData)];
  });
  for (const line of [header, ...lines]) console.log(line.map((text, i) => (i === 0 ? text.padEnd(8) : text.padStart(10))).join(' '));
  for (const { bytes, tsgpu, baseline } of rows) {
    if (typeof tsgpu === 'string') console.log(`${label(bytes)} tsgpu ${tsgpu}`);
    if (typeof baseline === 'string') console.log(`${label(bytes)} baseline ${baseline}`);
  }
  const verdicts = rows.flatMap(({ bytes, tsgpu, baseline }) => {
    if (typeof tsgpu === 'string' || typeof baseline === 'string') return [];
    const gb = (seconds: number): number => bytes / seconds / 1e9;
    if (gpu?.software) {
      return [['H2D', tsgpu.to, baseline.tfjsUpload], ['D2H cpu()', tsgpu.cpu, baseline.tfjsData], ['D2H data()', tsgpu.data, baseline.tfjsData]]
        .filter(([, ours, theirs]) => (theirs as number) / (ours as number) < 1.0).map(([what]) => `${label(bytes)} ${what as string} below 1.0x tfjs`);
    }
    if (bytes < 64 * MiB) return [];
    const missed: string[] = [];
    if (gb(tsgpu.to) < 10 || baseline.tfjsUpload / tsgpu.to < 4) missed.push(`${label(bytes)} H2D ${gb(tsgpu.to).toFixed(2)} GB/s (target >= 10 and >= 4x tfjs)`);
    if (gb(tsgpu.cpu) < 8 || baseline.tfjsData / tsgpu.cpu < 4) missed.push(`${label(bytes)} D2H ${gb(tsgpu.cpu).toFixed(2)} GB/s (target >= 8 and >= 4x tfjs)`);
    return missed;
  });
  const target = gpu?.software ? '>= 1.0x tfjs at every size (software GPU)' : '>= 10 GB/s H2D, >= 8 GB/s D2H, >= 4x tfjs at 64 MiB and above';
  const failed = rows.some(({ tsgpu, baseline }) => typeof tsgpu === 'string' || typeof baseline === 'string');
  console.log(`target ${target}: ${verdicts.length > 0 ? `MISSED: ${verdicts.join('; ')}` : failed ? 'not judged (a run failed, above)' : 'met'}`);
  process.exit(0);
}

if (process.argv[2] === '--child') {
  const [mode, bytes] = [process.argv[3], Number(process.argv[4])];
  (mode === 'tsgpu' ? tsgpuChild(bytes) : baselineChild(bytes)).then((figures) => {
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    process.exit(0);
  }, (error: unknown) => {
    console.error(error instanceof Error ? error.stack ?? error.message : String(error));
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    console.error(`transfers bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    process.exit(1);
  });
}
