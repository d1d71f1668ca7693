// Device benchmark: what the device layer costs beside raw tfjs, measured in the same run.
//
//   npm run bench:devices [-- --quick]
//
// - tiny op: tf.add of two one-element tensors (+ dispose) on cpu (wasm), µs per op, raw tfjs vs
//   with tsgpu's placement hooks; separate processes, alternated, median of each.
//   Target (issue 4): hooked <= 1.1x raw.
// - collection: what handing a cell's tensors to the garbage collector costs at the cell's end (µs
//   per cell of 100 tensors held by a name and dropped by the next cell), and what a full
//   collection (%gc, or the kernel once it idles) takes with the compiler-free heap of this process.
// - collections named at a cell's end: a cell of 200 uploads of 4 KiB awaited together on gpu:0,
//   its moves' waits searched for the garbage collections that held them up (timing/collections.ts),
//   µs per cell (the wait for Node's gc entries apart), beside raw Dawn's 200 writes of 4 KiB.
// Moves between host and GPU have their own benchmark: npm run bench:transfers.
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { EngineLike } from '../kernel/device/engine-internals';
import { DeviceLayer } from '../kernel/device/device-layer';
import { TensorFinalizer } from '../kernel/device/tensor-finalizer';
import { CollectionWaits } from '../kernel/device/timing/collections';
import { kernelWorkIn, kernelWorkKnownFrom } from '../kernel/device/timing/kernel-work';
import { loadTfjs } from '../kernel/device/tfjs';
import { CellContext, cellWork, runInCell } from '../kernel/interpreter/cell-context';
import { NO_CELL_SOURCE } from '../kernel/interpreter/cell-hooks';
import { type BaselineDevice, rawWriteBuffer } from './lib/transfer-baselines';

const TINY_OPS = 200_000;

/** Child process: µs per tiny op, with or without the hooks. */
async function tinyOpChild(hooked: boolean): Promise<void> {
  if (hooked) {
    // As in the kernel: the ops run as cell 1's work, so the per-op ownership check is measured too.
    const layer = new DeviceLayer({ locate: () => null, locateLater: () => () => null, emit: () => undefined, cells: cellWork });
    await layer.control();
    layer.beforeRun(1, NO_CELL_SOURCE);
    await runInCell(new CellContext(1), () => tinyOpRounds());
    return;
  }
  await tinyOpRounds();
}

async function tinyOpRounds(): Promise<void> {
  const { core } = await loadTfjs();
  const a = core.tensor([1]);
  const b = core.tensor([2]);
  const round = (): number => {
    const started = performance.now();
    for (let i = 0; i < TINY_OPS; i++) core.add(a, b).dispose();
    return ((performance.now() - started) * 1000) / TINY_OPS;
  };
  round();
  const rounds = [round(), round(), round(), round(), round()].sort((x, y) => x - y);
  process.stdout.write(`${rounds[2]}\n`);
}

const CELLS = 200;
const TENSORS_PER_CELL = 100;

/**
 * Child process: cell-end hand-over µs per cell and full-collection ms, with the finalizer alone on
 * raw tfjs (so the figure is the hand-over's, not the report's that a kernel renders at cell end).
 */
async function collectionChild(): Promise<void> {
  const { core } = await loadTfjs();
  const engine = core.engine() as unknown as EngineLike;
  const finalizer = new TensorFinalizer(engine, { deviceOf: () => 'cpu', bytesOf: (dataId) => engine.state.tensorInfo.get(dataId)?.bytes ?? 0, live: () => ({ cpu: core.memory().numBytes }) });
  finalizer.install();
  const global = globalThis as { held?: unknown };
  const handOver: number[] = [];
  let made = 0;
  for (let cell = 1; cell <= CELLS; cell++) {
    finalizer.beginCell();
    const before = core.memory().numTensors;
    global.held = Array.from({ length: TENSORS_PER_CELL }, (_, i) => core.scalar(i).add(1));
    made = core.memory().numTensors - before;
    const started = performance.now();
    finalizer.endCell();
    handOver.push((performance.now() - started) * 1000);
  }
  delete global.held;
  const collected = await finalizer.collectNow();
  const freed = Object.values(collected.freed).reduce((sum, entry) => sum + entry.tensors, 0);
  process.stdout.write(`${JSON.stringify({ handOverUs: median(handOver), perCell: made, gcMs: collected.ms, freed })}\n`);
}

const UPLOADS = 200;

/**
 * Child process: a cell of UPLOADS uploads awaited together through the device layer, then the
 * naming of its moves' collections timed alone on copies of those moves (the cell's own naming ran
 * in its afterRun), against raw Dawn writing the same bytes.
 */
async function namingChild(): Promise<void> {
  const layer = new DeviceLayer({ locate: () => null, locateLater: () => () => null, emit: () => undefined, cells: cellWork });
  await layer.control();
  const { core } = await loadTfjs();
  type Movable = { to(device: string): Promise<unknown> };
  type Records = NonNullable<Awaited<ReturnType<DeviceLayer['afterRun']>>>['report']['transfers'];
  const cell = async (number: number): Promise<{ movesMs: number; records: Records; cellStart: number }> => {
    // The session's cell starts within microseconds of this: the moves' `at` count from there.
    const cellStart = performance.now();
    layer.beforeRun(number, NO_CELL_SOURCE);
    const started = performance.now();
    await runInCell(new CellContext(number), async () => {
      const xs = Array.from({ length: UPLOADS }, (_, i) => core.fill([1024], i) as unknown as Movable);
      await Promise.all(xs.map((x) => x.to('gpu:0')));
    });
    const movesMs = performance.now() - started;
    const shown = await layer.afterRun();
    return { movesMs, records: shown?.report.transfers ?? [], cellStart };
  };
  // Watching from before the cells, as the session's own does.
  const waits = new CollectionWaits((span) => kernelWorkIn(span).pieces, kernelWorkKnownFrom);
  await cell(1);
  const naming: number[] = [];
  const settling: number[] = [];
  const cellsMs: number[] = [];
  let collected = 0;
  for (let number = 2; number < 22; number++) {
    const { movesMs, records, cellStart } = await cell(number);
    cellsMs.push(movesMs);
    // Copies as the session held them before it named them: the same waits less the gc ones.
    const copies = records.map((record) => ({ move: { ...record, waits: record.waits.filter((wait) => wait.cause !== 'gc') }, start: cellStart + record.at }));
    collected += records.filter((record) => record.waits.some((wait) => wait.cause === 'gc')).length;
    const settleStart = performance.now();
    await waits.settle();
    settling.push((performance.now() - settleStart) * 1000);
    const started = performance.now();
    waits.nameSettled(copies);
    naming.push((performance.now() - started) * 1000);
  }
  const device = ((core.engine() as unknown as EngineLike).registry['gpu:0'] as unknown as { device: BaselineDevice }).device;
  const rawUs = (await rawWriteBuffer(device, 4096, 50)).seconds * 1e6 * UPLOADS;
  process.stdout.write(`${JSON.stringify({ namingUs: median(naming), settleUs: median(settling), cellMs: median(cellsMs), rawUs, collected })}\n`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function tinyOps(rounds: number): { raw: number; hooked: number } {
  const raw: number[] = [];
  const hooked: number[] = [];
  for (let i = 0; i < rounds; i++) {
    for (const [mode, into] of [['raw', raw], ['hooked', hooked]] as const) {
      into.push(Number(execFileSync(process.execPath, [__filename, '--child', mode], { encoding: 'utf8' }).trim()));
    }
  }
  return { raw: median(raw), hooked: median(hooked) };
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const tiny = tinyOps(quick ? 1 : 3);
  console.log('tiny op on cpu (tf.add of two 1-element tensors + dispose), median of separate processes');
  console.log(`  raw tfjs ${tiny.raw.toFixed(3)} µs, with tsgpu hooks ${tiny.hooked.toFixed(3)} µs: `
    + `${(tiny.hooked / tiny.raw).toFixed(3)}x (target <= 1.1x) ${tiny.hooked / tiny.raw <= 1.1 ? 'met' : 'MISSED'}; `
    + `added ${(tiny.hooked - tiny.raw).toFixed(3)} µs (budget 0.5 µs)`);
  const collection = JSON.parse(execFileSync(process.execPath, [__filename, '--collection'], { encoding: 'utf8' }).trim()) as
    { handOverUs: number; perCell: number; gcMs: number; freed: number };
  console.log(`collection: ${CELLS} cells, each making ${collection.perCell} tensors (${TENSORS_PER_CELL} held by a name and dropped by the next cell)`);
  console.log(`  hand-over at cell end ${collection.handOverUs.toFixed(0)} µs per cell (median; ${(collection.handOverUs / collection.perCell).toFixed(2)} µs per tensor); `
    + `a full collection ${collection.gcMs.toFixed(1)} ms, freeing ${collection.freed} tensors (runs once the kernel idles, or at %gc)`);
  const naming = JSON.parse(execFileSync(process.execPath, [__filename, '--naming'], { encoding: 'utf8' }).trim()) as
    { namingUs: number; settleUs: number; cellMs: number; rawUs: number; collected: number };
  console.log(`collections named at a cell's end: 20 cells of ${UPLOADS} uploads of 4 KiB awaited together on gpu:0 (${naming.cellMs.toFixed(1)} ms a cell, median), `
    + `${naming.collected} of their ${20 * UPLOADS} moves met a collection`);
  console.log(`  naming ${naming.namingUs.toFixed(0)} µs per cell (median), plus ${naming.settleUs.toFixed(0)} µs waiting one event-loop turn for Node's gc entries; `
    + `raw Dawn's ${UPLOADS} writes of 4 KiB ${naming.rawUs.toFixed(0)} µs: naming ${(naming.namingUs / naming.rawUs).toFixed(2)}x of them`);
  process.exit(0);
}

if (process.argv[2] === '--naming') {
  namingChild().then(() => process.exit(0), (error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else if (process.argv[2] === '--collection') {
  collectionChild().then(() => process.exit(0), (error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else if (process.argv[2] === '--child') {
  tinyOpChild(process.argv[3] === 'hooked').then(() => process.exit(0), (error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    console.error(`devices bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    process.exit(1);
  });
}
