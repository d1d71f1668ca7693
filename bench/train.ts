// Training benchmark: ms per training step of the seed's MLP (784-256-10, batch 128, Adam) and a
// small CNN (two 3×3 conv layers on 28×28×1, batch 64), on cpu (wasm) and gpu:0, for
//   (a) raw tfjs-layers trainOnBatch in a plain Node process (bench/lib/raw-tfjs.ts),
//   (b) the same code as kernel cells, through a real kernel over ZeroMQ,
//   (c) the kernel's fastest path (model.trainStep: no per-step readback; the loss read once at the end),
// all in the same run, with the loss after --steps steps for each (same seed and data), and a
// breakdown of one step: host JavaScript outside the kernels (tfjs-layers, tape, optimizer), host
// time inside the kernels (on a GPU: encoding and dispatch; on cpu: the compute), time waiting for
// the loss readback, and GPU time from the kernel's report (the GPU's own timestamps).
//
//   npm run bench:train [-- --steps 100 --warmup 10 --cnn-steps 20 --cnn-cpu-steps 3 --reps 1 --models mlp,cnn --devices cpu,gpu:0]
//
// With --reps N each row runs N times, alternated with the others, and the table shows the
// median and the fastest (the run least disturbed by other work on the machine).
//
// ms/step is timed over steps warmup..steps (the first steps compile shaders). Timings on these
// shared 2-core machines are noisy: the load average is printed with the table, and ratios are
// taken against raw tfjs measured in the same run.
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { cleanupEnv, launch, median, setupEnv, stop, textPlain, type Running } from './lib/kernels';
import { evaluateProgram, rawTfjs } from './lib/raw-tfjs';
import { BREAKDOWN_SETUP, DEFAULT_BATCH, THREAD_CLOCK_CELL, TRAIN_SETUP, threadMs, type ModelKind } from './lib/train-program';
import type { Message } from './lib/wire-client';

interface Options { steps: number; warmup: number; cnnSteps: number; cnnCpuSteps: number; reps: number; models: ModelKind[]; devices: string[]; breakdownSteps: number }

function parseArgs(argv: string[]): Options {
  const options: Options = { steps: 100, warmup: 10, cnnSteps: 20, cnnCpuSteps: 3, reps: 1, models: ['mlp', 'cnn'], devices: ['cpu', 'gpu:0'], breakdownSteps: 10 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1] ?? ''];
    const count = Number(value);
    if (flag === '--steps' && Number.isInteger(count) && count > 1) options.steps = count;
    else if (flag === '--warmup' && Number.isInteger(count) && count >= 0) options.warmup = count;
    else if (flag === '--cnn-steps' && Number.isInteger(count) && count > 1) options.cnnSteps = count;
    else if (flag === '--reps' && Number.isInteger(count) && count > 0) options.reps = count;
    else if (flag === '--cnn-cpu-steps' && Number.isInteger(count) && count > 2) options.cnnCpuSteps = count;
    else if (flag === '--breakdown-steps' && Number.isInteger(count) && count > 0) options.breakdownSteps = count;
    else if (flag === '--models' && value.split(',').every((m) => m === 'mlp' || m === 'cnn')) options.models = value.split(',') as ModelKind[];
    else if (flag === '--devices' && value.split(',').every((d) => d === 'cpu' || /^gpu:\d+$/.test(d))) options.devices = value.split(',');
    else throw new Error(`usage: node dist/bench/train.js [--steps N] [--warmup N] [--breakdown-steps N] [--cnn-steps N] [--cnn-cpu-steps N] [--reps N] [--models mlp,cnn] [--devices cpu,gpu:0] (bad: ${flag} ${value})`);
  }
  if (options.warmup >= options.steps) throw new Error('--warmup must be smaller than --steps');
  return options;
}

interface Run { msPerStep: number; loss: number; hostMsPerStep?: number; finalReadMs?: number }

/** One step, split by where its time went (ms per step): see BREAKDOWN_SETUP. */
interface Breakdown {
  stepMs: number;
  /** Host time outside tfjs kernels: tfjs-layers, the tape, gradients and the optimizer's JavaScript (and, in the kernel, its hooks there). */
  hostJsMs: number;
  /** Host time inside kernels (outermost runKernel calls): the compute on cpu, encoding and dispatch on a GPU. */
  kernelHostMs: number;
  ops: number;
  /** Waiting for the loss readback (the step's synchronisation). */
  readWaitMs: number;
  /** CPU time per step: the whole process (on lavapipe, its GPU threads too), and the main thread. */
  processCpuMs: number;
  mainThreadCpuMs: number;
}

interface RawResult extends Run { breakdown: Breakdown }

// ---- child: raw tfjs ----

async function rawChild(kind: ModelKind, device: string, options: Options): Promise<void> {
  const { tf } = await rawTfjs(device);
  type Program = {
    benchModel(kind: string): unknown;
    benchBatches(kind: string, batch: number): unknown[];
    benchTrainOnBatch(model: unknown, batches: unknown[], steps: number, warmup: number): Promise<Run>;
    benchBreakdown(model: unknown, batches: unknown[], steps: number): Promise<Breakdown>;
  };
  const program = evaluateProgram<Program>(TRAIN_SETUP + BREAKDOWN_SETUP, ['benchModel', 'benchBatches', 'benchTrainOnBatch', 'benchBreakdown'],
    { tf, performance, process, benchThreadMs: threadMs });
  const model = program.benchModel(kind);
  const batches = program.benchBatches(kind, DEFAULT_BATCH[kind]);
  const run = await program.benchTrainOnBatch(model, batches, options.steps, options.warmup);
  // The breakdown: more steps on the warm model, with the engine's kernel calls and reads timed.
  const breakdown = await program.benchBreakdown(model, batches, options.breakdownSteps);
  process.stdout.write(`${JSON.stringify({ ...run, breakdown })}\n`);
}

// ---- parent: kernel runs and the table ----

function rawRun(kind: ModelKind, device: string, options: Options): RawResult {
  const { steps, warmup } = stepsFor(kind, device, options);
  const slow = kind === 'cnn' && device === 'cpu';
  const args = [__filename, '--child', kind, device, '--steps', String(steps), '--warmup', String(warmup),
    '--breakdown-steps', String(slow ? 1 : options.breakdownSteps)];
  const out = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as RawResult;
}

interface ReportDevice { device: string; ops: number; gpu: { ms: number } | null }

async function cell(kernel: Running, code: string, timeoutMs = 600_000): Promise<{ text: string | undefined; iopub: Message[] }> {
  const { reply, iopub } = await kernel.client.execute(code, timeoutMs);
  if (reply.content['status'] !== 'ok') {
    throw new Error(`cell failed: ${String(reply.content['ename'])}: ${String(reply.content['evalue'])}\n${code}`);
  }
  return { text: textPlain(iopub), iopub };
}

function reportDevices(iopub: Message[]): ReportDevice[] {
  for (const message of iopub) {
    const report = (message.metadata?.['tsgpu'] ?? (message.content['metadata'] as Record<string, unknown> | undefined)?.['tsgpu']) as
      { devices?: ReportDevice[] } | undefined;
    if (report?.devices) return report.devices;
  }
  return [];
}

function parseRun(text: string | undefined): Run {
  if (text === undefined) throw new Error('the training cell returned nothing');
  // A string result shows as JavaScript source: JSON inside single quotes.
  return JSON.parse(text.replace(/^'|'$/g, '')) as Run;
}

interface KernelRows { trainOnBatch: Run; fastest: Run | null; reportOff: Run | null; gpuMsPerStep: number | null; opsPerStep: number; breakdown: Breakdown }

/** trainOnBatch through the kernel, its report over a few more steps, and (withFastest) model.trainStep. */
async function kernelRuns(kernel: Running, kind: ModelKind, device: string, options: Options, withFastest: boolean): Promise<KernelRows> {
  const batch = DEFAULT_BATCH[kind];
  const { steps, warmup } = stepsFor(kind, device, options);
  const names = `${kind}_${device.replace(':', '')}`;
  const trainOnBatch = parseRun((await cell(kernel, `const model_${names} = benchModel('${kind}');
const batches_${names} = benchBatches('${kind}', ${batch});
const run_${names} = await benchTrainOnBatch(model_${names}, batches_${names}, ${steps}, ${warmup});
JSON.stringify(run_${names})`)).text);
  // The report of a few more steps on the warm model: ops and GPU time per step.
  const more = kind === 'cnn' && device === 'cpu' ? 1 : options.breakdownSteps;
  const measured = await cell(kernel, `JSON.stringify(await benchBreakdown(model_${names}, batches_${names}, ${more}))`);
  const breakdown = JSON.parse(measured.text!.replace(/^'|'$/g, '')) as Breakdown;
  const iopub = measured.iopub;
  const used = reportDevices(iopub).find((d) => d.device === device);
  let fastest: Run | null = null;
  let reportOff: Run | null = null;
  if (withFastest) {
    // The same steps with the report off: no GPU timestamps, nothing rendered at the cell's end.
    await cell(kernel, '%report off');
    reportOff = parseRun((await cell(kernel, `const quiet_${names} = benchModel('${kind}');
JSON.stringify(await benchTrainOnBatch(quiet_${names}, batches_${names}, ${steps}, ${warmup}))`)).text);
    await cell(kernel, '%report full');
    await cell(kernel, `quiet_${names}.dispose();`);
    fastest = parseRun((await cell(kernel, `const fast_${names} = benchModel('${kind}');
const fastBatches_${names} = benchBatches('${kind}', ${batch});
const fastRun_${names} = await benchTrainSteps(fast_${names}, fastBatches_${names}, ${steps}, ${warmup});
JSON.stringify(fastRun_${names})`)).text);
    await cell(kernel, `fast_${names}.dispose(); tf.dispose(fastBatches_${names}.flatMap((b) => [b.x, b.y]));`);
  }
  await cell(kernel, `model_${names}.dispose(); tf.dispose(batches_${names}.flatMap((b) => [b.x, b.y]));`);
  return { trainOnBatch, fastest, reportOff, gpuMsPerStep: used?.gpu ? used.gpu.ms / (more + 1) : null, opsPerStep: (used?.ops ?? 0) / (more + 1), breakdown };
}

/**
 * The CNN on cpu trains its convolutions' filter gradients on tfjs-backend-cpu (wasm has no
 * Conv2DBackpropFilter), seconds a step, and on lavapipe takes ~0.6 s a step: by default it runs
 * fewer steps (--cnn-cpu-steps, --cnn-steps), so that the default run stays within minutes.
 */
function stepsFor(kind: ModelKind, device: string, options: Options): { steps: number; warmup: number } {
  if (kind === 'cnn' && device === 'cpu') return { steps: options.cnnCpuSteps, warmup: Math.min(options.warmup, 1) };
  if (kind === 'cnn') return { steps: options.cnnSteps, warmup: Math.min(options.warmup, Math.floor(options.cnnSteps / 4)) };
  return { steps: options.steps, warmup: options.warmup };
}

/** The fastest path as a kernel cell: defined here because it uses the kernel's own API. */
const FAST_SETUP = `
async function benchTrainSteps(model: any, batches: any[], steps: number, warmup: number) {
  let started = performance.now();
  let lastLoss: any = null;
  let hostMs = 0;
  for (let step = 0; step < steps; step++) {
    if (step === warmup) {
      started = performance.now();
      hostMs = 0;
    }
    const batch = batches[step % batches.length];
    lastLoss?.dispose();
    const called = performance.now();
    lastLoss = model.trainStep(batch.x, batch.y);
    hostMs += performance.now() - called;
  }
  const reading = performance.now();
  const loss = (await lastLoss.data())[0] as number;
  const readMs = performance.now() - reading;
  lastLoss.dispose();
  const timed = steps - warmup;
  return { msPerStep: (performance.now() - started) / timed, loss, hostMsPerStep: hostMs / timed, finalReadMs: readMs };
}
`;

/** Each figure's median over the runs. */
function medianBreakdown(all: Breakdown[]): Breakdown {
  const pick = (key: keyof Breakdown): number => median(all.map((b) => b[key]));
  return { stepMs: pick('stepMs'), hostJsMs: pick('hostJsMs'), kernelHostMs: pick('kernelHostMs'), ops: pick('ops'), readWaitMs: pick('readWaitMs'),
    processCpuMs: pick('processCpuMs'), mainThreadCpuMs: pick('mainThreadCpuMs') };
}

function relativeDifference(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-30);
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  setupEnv();
  const lines: string[] = [];
  const breakdowns: string[] = [];
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  const main = require.resolve('../kernel/cli/main.js');
  for (const device of options.devices) {
    // One kernel with tfjs's own Adam (what tracking alone costs), one as it ships (fused Adam).
    const plain = await launch({ name: 'tsgpu', command: (cf) => ['/usr/bin/env', ['TSGPU_FUSED_OPTIMIZER=off', process.execPath, main, 'kernel', cf]] });
    const fused = await launch({ name: 'tsgpu', command: (cf) => [process.execPath, [main, 'kernel', cf]] });
    try {
      for (const kernel of [plain, fused]) {
        await cell(kernel, `%device ${device}`);
        await cell(kernel, TRAIN_SETUP);
        await cell(kernel, THREAD_CLOCK_CELL);
        await cell(kernel, BREAKDOWN_SETUP);
        await cell(kernel, FAST_SETUP);
      }
      for (const kind of options.models) {
        const started = performance.now();
        const runs: { raw: RawResult; tracked: KernelRows; shipped: KernelRows }[] = [];
        for (let rep = 0; rep < options.reps; rep++) {
          runs.push({
            raw: rawRun(kind, device, options),
            tracked: await kernelRuns(plain, kind, device, options, false),
            shipped: await kernelRuns(fused, kind, device, options, true),
          });
        }
        const { raw, tracked, shipped } = runs[0]!;
        const { steps } = stepsFor(kind, device, options);
        const rawTimes = runs.map((r) => r.raw.msPerStep);
        const row = (label: string, pick: (r: (typeof runs)[number]) => Run): string => {
          const times = runs.map((r) => pick(r).msPerStep);
          const loss = pick(runs[0]!).loss;
          return `${`${kind} ${device}`.padEnd(11)} ${label.padEnd(38)} ${String(steps).padStart(5)} ${median(times).toFixed(2).padStart(9)} `
            + `${Math.min(...times).toFixed(2).padStart(9)} ${(median(times) / median(rawTimes)).toFixed(2).padStart(6)}x ${(Math.min(...times) / Math.min(...rawTimes)).toFixed(2).padStart(6)}x  `
            + `${loss.toPrecision(8).padStart(12)}  ${relativeDifference(loss, raw.loss).toExponential(1)}`;
        };
        lines.push(row('(a) raw tfjs trainOnBatch', (r) => r.raw), row('(b) kernel trainOnBatch, tfjs Adam', (r) => r.tracked.trainOnBatch),
          row('(b) kernel trainOnBatch, fused Adam', (r) => r.shipped.trainOnBatch), row('(b) same, %report off', (r) => r.shipped.reportOff!),
          row('(c) kernel model.trainStep, fused Adam', (r) => r.shipped.fastest!));
        const gpu = (rows: KernelRows): string => (rows.gpuMsPerStep === null ? 'n/a (host device)' : `${rows.gpuMsPerStep.toFixed(2)} ms/step`);
        const split = (label: string, pick: (r: (typeof runs)[number]) => Breakdown): string => {
          const b = medianBreakdown(runs.map(pick));
          return `${''.padEnd(11)} ${label.padEnd(17)} step ${b.stepMs.toFixed(2)} ms = host JS ${b.hostJsMs.toFixed(2)} + in kernels ${b.kernelHostMs.toFixed(2)} `
            + `(${b.ops.toFixed(0)} ops, ${((b.kernelHostMs / b.ops) * 1000).toFixed(0)} µs/op) + loss readback wait ${b.readWaitMs.toFixed(2)}; `
            + `CPU ms/step: process ${b.processCpuMs.toFixed(2)}, main thread ${b.mainThreadCpuMs.toFixed(2)}`;
        };
        breakdowns.push(`${kind} ${device}`, split('(a) raw', (r) => r.raw.breakdown), split('(b) tfjs Adam', (r) => r.tracked.breakdown),
          split('(b) fused Adam', (r) => r.shipped.breakdown),
          `${''.padEnd(11)} kernel report, trainOnBatch: tfjs Adam ${tracked.opsPerStep.toFixed(0)} ops/step, GPU time ${gpu(tracked)}; `
          + `fused Adam ${shipped.opsPerStep.toFixed(0)} ops/step, GPU time ${gpu(shipped)}`,
          `${''.padEnd(11)} model.trainStep: host ${shipped.fastest!.hostMsPerStep!.toFixed(2)} ms/step inside trainStep (JS and dispatch), `
          + `the rest of ${shipped.fastest!.msPerStep.toFixed(2)} ms/step between calls; one read at the end waited ${shipped.fastest!.finalReadMs!.toFixed(1)} ms`);
        console.error(`${kind} ${device}: done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
      }
    } finally {
      await stop(plain);
      await stop(fused);
    }
  }
  console.log(`\ntraining step, median and fastest of ${options.reps} run(s) (timed after the warm-up steps; the loss is the first run's); load average before: ${load}; after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`${'row'.padEnd(11)} ${'path'.padEnd(38)} ${'steps'.padStart(5)} ${'ms/step'.padStart(9)} ${'fastest'.padStart(9)} ${'vs (a)'.padStart(7)} ${'fastest'.padStart(7)}  ${'loss'.padStart(12)}  rel. diff vs (a)`);
  for (const line of lines) console.log(line);
  console.log('\none step (median of the runs), timed inside the engine the same way in each process:');
  for (const line of breakdowns) console.log(line);
}

if (process.argv[2] === '--child') {
  const [kind, device] = [process.argv[3] as ModelKind, process.argv[4]!];
  rawChild(kind, device, parseArgs(process.argv.slice(5))).then(() => process.exit(0), (error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().then(cleanupEnv, (error: unknown) => {
    cleanupEnv();
    console.error(`train bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
