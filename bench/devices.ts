// Device benchmark: what the device layer costs beside raw tfjs, measured in the same run.
//
//   npm run bench:devices [-- --quick]
//
// - tiny op: tf.add of two one-element tensors (+ dispose) on cpu (wasm), µs per op, raw tfjs vs
//   with tsgpu's placement hooks; separate processes, alternated, median of each.
//   Target (issue 4): hooked <= 1.1x raw.
// - moves: x.to('gpu:0') and x.cpu() beside tfjs's own upload (a tensor made on the GPU backend
//   from host data, uploaded) and readback (await t.data()), at 4 B, 1 MB, 16 MB, 64 MB, GB/s.
//   Target: >= 1.0x tfjs's path. On lavapipe (a software GPU) the figures are host memcpy speeds.
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { DeviceLayer } from '../kernel/device/session';
import type { EngineLike } from '../kernel/device/engine-internals';
import { loadTfjs } from '../kernel/device/tfjs';

const TINY_OPS = 200_000;

/** Child process: µs per tiny op, with or without the hooks. */
async function tinyOpChild(hooked: boolean): Promise<void> {
  if (hooked) await new DeviceLayer({ locate: () => null, userValues: () => [], emit: () => undefined }).control();
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

interface MoveFigures { size: number; toGpu: number; tfjsUpload: number; toCpu: number; tfjsReadback: number }

async function moves(sizes: number[], repeats: number): Promise<MoveFigures[]> {
  const layer = new DeviceLayer({ locate: () => null, userValues: () => [], emit: () => undefined });
  const devices = await layer.control();
  await devices.setCurrent('gpu:0');
  await devices.setCurrent('cpu');
  const { core } = await loadTfjs();
  const engine = core.engine() as unknown as EngineLike;
  const gpu = engine.registry['gpu:0']!;
  const figures: MoveFigures[] = [];
  for (const size of sizes) {
    const elements = Math.max(1, size / 4);
    const host = new Float32Array(elements).map((_, i) => i % 251);
    const timings = { toGpu: [] as number[], tfjsUpload: [] as number[], toCpu: [] as number[], tfjsReadback: [] as number[] };
    for (let r = 0; r < repeats + 1; r++) {
      // tsgpu: a host tensor moved to the GPU (uploaded), then brought back.
      const x = core.tensor(host);
      let started = performance.now();
      await x.to('gpu:0');
      await devices.synchronize();
      const toGpu = performance.now() - started;
      started = performance.now();
      await x.cpu();
      const toCpu = performance.now() - started;
      x.dispose();
      // tfjs's own path: made on the GPU backend from host data, uploaded; read back with data().
      await devices.setCurrent('gpu:0');
      started = performance.now();
      const t = core.tensor(host);
      gpu.uploadToGPU?.(t.dataId);
      await devices.synchronize();
      const tfjsUpload = performance.now() - started;
      await devices.setCurrent('cpu');
      started = performance.now();
      await t.data();
      const tfjsReadback = performance.now() - started;
      t.dispose();
      if (r === 0) continue; // first round compiles and allocates
      timings.toGpu.push(toGpu);
      timings.toCpu.push(toCpu);
      timings.tfjsUpload.push(tfjsUpload);
      timings.tfjsReadback.push(tfjsReadback);
    }
    const rate = (ms: number[]): number => (elements * 4) / median(ms) / 1e6;
    figures.push({ size, toGpu: rate(timings.toGpu), tfjsUpload: rate(timings.tfjsUpload), toCpu: rate(timings.toCpu), tfjsReadback: rate(timings.tfjsReadback) });
  }
  return figures;
}

function label(bytes: number): string {
  return bytes >= 1 << 20 ? `${bytes / (1 << 20)} MB` : `${bytes} B`;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const tiny = tinyOps(quick ? 1 : 3);
  console.log('tiny op on cpu (tf.add of two 1-element tensors + dispose), median of separate processes');
  console.log(`  raw tfjs ${tiny.raw.toFixed(3)} µs, with tsgpu hooks ${tiny.hooked.toFixed(3)} µs: `
    + `${(tiny.hooked / tiny.raw).toFixed(3)}x (target <= 1.1x) ${tiny.hooked / tiny.raw <= 1.1 ? 'met' : 'MISSED'}; `
    + `added ${(tiny.hooked - tiny.raw).toFixed(3)} µs (budget 0.5 µs)`);
  const sizes = [4, 1 << 20, 16 << 20, 64 << 20];
  const figures = await moves(quick ? sizes.slice(0, 3) : sizes, quick ? 2 : 5);
  console.log('\nmoves, GB/s (median); on a software GPU these are host memory speeds');
  console.log(`${'size'.padEnd(8)} ${'to(gpu:0)'.padStart(10)} ${'tfjs upload'.padStart(12)} ${'ratio'.padStart(7)}   ${'cpu()'.padStart(8)} ${'tfjs data()'.padStart(12)} ${'ratio'.padStart(7)}`);
  for (const f of figures) {
    console.log(`${label(f.size).padEnd(8)} ${f.toGpu.toFixed(3).padStart(10)} ${f.tfjsUpload.toFixed(3).padStart(12)} ${`${(f.toGpu / f.tfjsUpload).toFixed(2)}x`.padStart(7)}   `
      + `${f.toCpu.toFixed(3).padStart(8)} ${f.tfjsReadback.toFixed(3).padStart(12)} ${`${(f.toCpu / f.tfjsReadback).toFixed(2)}x`.padStart(7)}`);
  }
  console.log('targets: to()/cpu() >= 1.0x tfjs\'s own path at every size');
  process.exit(0);
}

if (process.argv[2] === '--child') {
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
