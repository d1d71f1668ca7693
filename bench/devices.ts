// Device benchmark: what the device layer costs beside raw tfjs, measured in the same run.
//
//   npm run bench:devices [-- --quick]
//
// - tiny op: tf.add of two one-element tensors (+ dispose) on cpu (wasm), µs per op, raw tfjs vs
//   with tsgpu's placement hooks; separate processes, alternated, median of each.
//   Target (issue 4): hooked <= 1.1x raw.
// Moves between host and GPU have their own benchmark: npm run bench:transfers.
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { DeviceLayer } from '../kernel/device/session';
import { loadTfjs } from '../kernel/device/tfjs';
import { CellContext, cellWork, runInCell } from '../kernel/interpreter/cell-context';

const TINY_OPS = 200_000;

/** Child process: µs per tiny op, with or without the hooks. */
async function tinyOpChild(hooked: boolean): Promise<void> {
  if (hooked) {
    // As in the kernel: the ops run as cell 1's work, so the per-op ownership check is measured too.
    const layer = new DeviceLayer({ locate: () => null, userValues: () => [], emit: () => undefined, cells: cellWork });
    await layer.control();
    layer.beforeRun(1);
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
