// Report benchmark: what the inline device report adds to a cell, measured in the same kernel.
//
//   npm run bench:report [-- --cells 50]
//
// The same small tensor cell (ops on cpu and a move to gpu:0) runs with `%report full` and with
// `%report off`, alternating; the difference of the median round trips (execute until idle) is
// the report's cost: collecting, rendering (table, SVG, ledger JSON) and sending it.
// Target (issue 5): <= 2 ms added.
//
// Then the seed's training cell (notebook 01: 5 epochs of trainOnBatch on gpu:0, a move per batch)
// with the report on (GPU clock timing every submit and read along with each move, %profile off)
// against %report off (every submit still timed, its times read once at the cell's end: work an
// unreported cell leaves running is named in a later report's waits), alternating; and once more
// with %profile on (a pass and a timestamp per op).
// Target (issue 13): report with GPU timing <= 3% over %report off.
//
// Then a cell of 200 and of 6,000 uploads awaited together: the round trip beyond the cell's own
// clock around its moves (making the tensors, checking and compiling the cell, its end), report on and off.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { KERNELS, cleanupEnv, launch, median, setupEnv, stop } from './lib/kernels';

/**
 * CPU seconds the kernel process has used (user + system, all threads: lavapipe runs in it too).
 * Wall time on two cores shared with other work swings by 2×; CPU time counts only this kernel's work.
 */
function kernelCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  // utime and stime are fields 14 and 15 of /proc/PID/stat (11 and 12 after the command name), in clock ticks (100 Hz).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Notebook 01's code cells: set-up (up to the model on its device) and the training cell. */
function seedCells(): { setup: string[]; training: string } {
  const notebook = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'notebooks', '01-cpu-gpu-switching.ipynb'), 'utf8')) as {
    cells: { cell_type: string; source: string | string[] }[];
  };
  const code = notebook.cells.filter((cell) => cell.cell_type === 'code').map((cell) => (Array.isArray(cell.source) ? cell.source.join('') : cell.source));
  const training = code.findIndex((source) => source.includes('trainOnBatch'));
  if (training < 0) throw new Error('notebook 01 has no training cell');
  return { setup: code.slice(0, training), training: code[training]! };
}

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

    // A cell of many moves awaited together: what the cell's end adds beyond the cell's own clock
    // around its moves (their answers settled, collections named, the report made), with the
    // report on and off. Before the answers' way back was counted once per gap, 6,000 uploads
    // waited 3.4 s past their own 1 s with %report off.
    const batch = (count: number): string => `{ const xs = Array.from({ length: ${count} }, (_, i) => tf.fill([1024], i)); `
      + "const t0 = performance.now(); await Promise.all(xs.map((x) => x.to('gpu:0'))); console.log('moves ' + (performance.now() - t0).toFixed(1)); }";
    // Reads one after another, each of an op's result: the cell's end splits every read's GPU wait
    // (6,000 reads spent 1.6 s there when each wait was split against all of the cell's GPU work).
    const reads = (count: number): string => "{ const y = await tf.fill([256], 3).to('gpu:0'); const t0 = performance.now(); "
      + `for (let i = 0; i < ${count}; i++) { const z = y.add(i); await z.data(); z.dispose(); } console.log('moves ' + (performance.now() - t0).toFixed(1)); }`;
    const manyMoves = [
      { label: '200 uploads of 4 KiB awaited together', code: batch(200) },
      { label: '6000 uploads of 4 KiB awaited together', code: batch(6000) },
      { label: '2000 reads of an op\'s result, one after another', code: reads(2000) },
    ];
    for (const { label, code } of manyMoves) {
      const ends: Record<'full' | 'off', number[]> = { full: [], off: [] };
      const own: number[] = [];
      for (let i = 0; i < 3; i++) {
        for (const mode of ['full', 'off'] as const) {
          await run(`%report ${mode}`);
          const started = performance.now();
          const { iopub } = await kernel.client.execute(code, 300_000);
          const ms = performance.now() - started;
          const printed = iopub.filter((m) => m.header.msg_type === 'stream').map((m) => String(m.content['text'])).join('');
          const moves = Number(/moves (\d+(?:\.\d+)?)/.exec(printed)?.[1] ?? Number.NaN);
          ends[mode].push(ms - moves);
          own.push(moves);
        }
      }
      console.log(`${label}, median of 3: the moves ${median(own).toFixed(0)} ms by the cell's clock; `
        + `round trip beyond them ${median(ends.full).toFixed(0)} ms with %report full, ${median(ends.off).toFixed(0)} ms with %report off `
        + `(${(median(ends.full) / median(own)).toFixed(2)}x and ${(median(ends.off) / median(own)).toFixed(2)}x the moves)`);
    }
    await run('%report full');

    const seed = seedCells();
    for (const code of seed.setup) await run(code);
    // Two untimed runs: the training cell's shaders compiled, its staging made.
    await run('%report off');
    for (let i = 0; i < 2; i++) await run(seed.training);
    const trainingRuns = Math.max(3, Math.round(cells / 5));
    const timed: number[] = [];
    const untimed: number[] = [];
    const profiled: number[] = [];
    const cpu = { timed: [] as number[], untimed: [] as number[], profiled: [] as number[] };
    const pid = kernel.child.pid!;
    const measured = async (into: number[], cpuInto: number[]): Promise<void> => {
      const before = kernelCpuMs(pid);
      into.push((await run(seed.training)).ms);
      cpuInto.push(kernelCpuMs(pid) - before);
    };
    // The three settings in turn, starting each round with the next one: whatever the cell before
    // leaves behind (an idle collection, say) falls on each setting alike.
    const settings = [
      { before: '%report full', into: timed, cpuInto: cpu.timed, after: null },
      { before: '%report off', into: untimed, cpuInto: cpu.untimed, after: null },
      { before: '%profile on', into: profiled, cpuInto: cpu.profiled, after: '%profile off' },
    ];
    for (let i = 0; i < trainingRuns; i++) {
      for (let j = 0; j < settings.length; j++) {
        const setting = settings[(i + j) % settings.length]!;
        await run('%report full');
        await run(setting.before);
        await measured(setting.into, setting.cpuInto);
        if (setting.after) await run(setting.after);
      }
    }
    const over = (median(timed) / median(untimed) - 1) * 100;
    const profileOver = (median(profiled) / median(untimed) - 1) * 100;
    console.log(`seed training cell (notebook 01), median of ${trainingRuns}: report full with GPU timing ${median(timed).toFixed(0)} ms, `
      + `%report off (timed, read at the end) ${median(untimed).toFixed(0)} ms, %profile on ${median(profiled).toFixed(0)} ms`);
    console.log(`GPU timing + report: ${over >= 0 ? '+' : ''}${over.toFixed(1)}% wall over %report off (target <= 3%) ${over <= 3 ? 'met' : 'MISSED'}; `
      + `%profile on: ${profileOver >= 0 ? '+' : ''}${profileOver.toFixed(1)}%`);
    const cpuOver = (median(cpu.timed) / median(cpu.untimed) - 1) * 100;
    const cpuProfileOver = (median(cpu.profiled) / median(cpu.untimed) - 1) * 100;
    console.log(`kernel CPU time per training cell (all threads), median: report full ${median(cpu.timed).toFixed(0)} ms, %report off ${median(cpu.untimed).toFixed(0)} ms, `
      + `%profile on ${median(cpu.profiled).toFixed(0)} ms: GPU timing + report ${cpuOver >= 0 ? '+' : ''}${cpuOver.toFixed(1)}%, %profile on ${cpuProfileOver >= 0 ? '+' : ''}${cpuProfileOver.toFixed(1)}%`);
  } finally {
    await stop(kernel);
  }
}

main().then(cleanupEnv, (error: unknown) => {
  cleanupEnv();
  console.error(`report bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  process.exitCode = 1;
});
