// Report benchmark: what the inline device report adds to a cell, measured in the same kernel.
//
//   npm run bench:report [-- --cells 50]
//
// The same small tensor cell (ops on cpu and a move to gpu:0) runs with `%report full` and with
// `%report off`, alternating; the difference of the median round trips (execute until idle) is
// the report's cost: collecting, rendering (table, SVG, ledger JSON) and sending it.
// Target (issue 5): <= 2 ms added.
import { performance } from 'node:perf_hooks';
import { KERNELS, cleanupEnv, launch, median, setupEnv, stop } from './lib/kernels';

const CELL = "const r = tf.ones([64]).add(1); await r.to('gpu:0'); r.device";

async function main(): Promise<void> {
  const cellsArgument = process.argv.indexOf('--cells');
  const cells = cellsArgument > 0 ? Number(process.argv[cellsArgument + 1]) : 50;
  setupEnv();
  const kernel = await launch(KERNELS.find((def) => def.name === 'tsgpu')!);
  try {
    const run = async (code: string): Promise<{ ms: number; displays: number }> => {
      const started = performance.now();
      const { reply, iopub } = await kernel.client.execute(code, 120_000);
      if (reply.content['status'] !== 'ok') throw new Error(`${code} failed: ${JSON.stringify(reply.content)}`);
      return { ms: performance.now() - started, displays: iopub.filter((m) => m.header.msg_type === 'display_data').length };
    };
    for (let i = 0; i < 5; i++) await run(CELL); // load tfjs, start the GPU, compile its shaders
    const on: number[] = [];
    const off: number[] = [];
    for (let i = 0; i < cells; i++) {
      await run('%report full');
      const full = await run(CELL);
      if (full.displays !== 1) throw new Error(`expected one report with %report full, got ${full.displays}`);
      on.push(full.ms);
      await run('%report off');
      const none = await run(CELL);
      if (none.displays !== 0) throw new Error(`expected no report with %report off, got ${none.displays}`);
      off.push(none.ms);
    }
    const added = median(on) - median(off);
    console.log(`cell round trip until idle, median of ${cells}: report full ${median(on).toFixed(2)} ms, report off ${median(off).toFixed(2)} ms`);
    console.log(`report cost: ${added.toFixed(2)} ms added (target <= 2 ms) ${added <= 2 ? 'met' : 'MISSED'}`);
  } finally {
    await stop(kernel);
  }
}

main().then(cleanupEnv, (error: unknown) => {
  cleanupEnv();
  console.error(`report bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  process.exitCode = 1;
});
