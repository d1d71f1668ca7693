// Kernel benchmark: tsgpu against Debian's ipykernel, measured in the same run on the same machine.
//
//   npm run bench:kernel [-- --starts 5 --warmup 10 --iters 100 --json out.json --strict]
//
// - cold start: spawn -> first kernel_info_reply (kernel_info_request re-sent until answered);
//   median of --starts starts per kernel, starts interleaved tsgpu / ipykernel.
// - `1+1` round trip: execute_request -> execute_reply and iopub status idle; p50 and p95 of --iters
//   after --warmup warm-up executions, requests alternating between the two kernels.
// - RSS after warm-up: VmRSS of the kernel process (and any children) from /proc.
// - whether the tsgpu kernel process has loaded tfjs (`@tensorflow` in /proc/PID/maps): reported only.
// Targets: tsgpu / ipykernel <= 1.0x on every row. Timing on shared 2-core machines is noisy, so only
// ratios measured in the same run mean anything.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  CLI, KERNELS, type Running, cleanupEnv, launch, mapsMention, median, percentile, rssMiB, setupEnv, stop, textPlain,
} from './lib/kernels';

interface Options { starts: number; warmup: number; iters: number; json: string | null; strict: boolean }

function parseArgs(argv: string[]): Options {
  const o: Options = { starts: 5, warmup: 10, iters: 100, json: null, strict: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer`);
      return v;
    };
    if (a === '--starts') o.starts = num();
    else if (a === '--warmup') o.warmup = num();
    else if (a === '--iters') o.iters = num();
    else if (a === '--json') o.json = argv[++i] ?? null;
    else if (a === '--strict') o.strict = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node dist/bench/kernel.js [--starts N] [--warmup N] [--iters N] [--json FILE] [--strict]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

interface Result {
  coldStartsMs: number[];
  coldMedianMs: number;
  rttP50Ms: number;
  rttP95Ms: number;
  rssMiB: number;
  cleanShutdowns: number;
  shutdowns: number;
}

async function main(): Promise<number> {
  const opt = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  setupEnv();
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`kernel bench: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), loadavg ${load}`);
  console.log(`  cold starts ${opt.starts} per kernel (interleaved), 1+1: ${opt.warmup} warm-up + ${opt.iters} measured (alternating)`);

  const res: Record<string, Result> = {};
  for (const k of KERNELS) {
    res[k.name] = { coldStartsMs: [], coldMedianMs: NaN, rttP50Ms: NaN, rttP95Ms: NaN, rssMiB: NaN, cleanShutdowns: 0, shutdowns: 0 };
  }

  // Cold starts, interleaved so that machine-load drift hits both kernels alike.
  for (let i = 0; i < opt.starts; i++) {
    for (const k of KERNELS) {
      const r = await launch(k);
      res[k.name].coldStartsMs.push(r.coldMs);
      res[k.name].shutdowns++;
      if (await stop(r)) res[k.name].cleanShutdowns++;
      process.stdout.write(`  start ${i + 1}/${opt.starts} ${k.name}: ${r.coldMs.toFixed(0)} ms\n`);
    }
  }
  for (const k of KERNELS) res[k.name].coldMedianMs = median(res[k.name].coldStartsMs);

  // Round trips and RSS: both kernels up at once, requests alternating between them.
  const running: Running[] = [];
  let tfjsLoaded: boolean | null = null;
  try {
    for (const k of KERNELS) running.push(await launch(k));
    for (const r of running) {
      // iopub only delivers once the subscription is live: wait for a kernel_info's idle on iopub.
      await r.client.kernelInfoUntilAnswered({ intervalMs: 200, timeoutMs: 30_000, needIopubIdle: true });
    }
    const samples: Record<string, number[]> = {};
    for (const r of running) samples[r.def.name] = [];
    for (let i = 0; i < opt.warmup + opt.iters; i++) {
      for (const r of running) {
        const t0 = performance.now();
        const { reply, iopub } = await r.client.execute('1+1');
        const dt = performance.now() - t0;
        if (i === 0) {
          const text = textPlain(iopub);
          if (reply.content.status !== 'ok' || text !== '2') {
            throw new Error(`${r.def.name} answered 1+1 with status ${String(reply.content.status)}, text/plain ${JSON.stringify(text)}`);
          }
        }
        if (i >= opt.warmup) samples[r.def.name].push(dt);
      }
      if (i === opt.warmup - 1) {
        for (const r of running) res[r.def.name].rssMiB = rssMiB(r.child.pid ?? -1);
      }
    }
    for (const r of running) {
      const s = samples[r.def.name].sort((a, b) => a - b);
      res[r.def.name].rttP50Ms = percentile(s, 50);
      res[r.def.name].rttP95Ms = percentile(s, 95);
      if (r.def.name === 'tsgpu') tfjsLoaded = mapsMention(r.child.pid ?? -1, '@tensorflow');
      if (r.client.badSignatures) console.log(`  warning: ${r.client.badSignatures} badly signed messages from ${r.def.name}`);
    }
  } finally {
    for (const r of running) {
      res[r.def.name].shutdowns++;
      if (await stop(r)) res[r.def.name].cleanShutdowns++;
    }
  }

  const ts = res.tsgpu;
  const py = res.ipykernel;
  const rows: Array<[string, number, number, string]> = [
    [`cold start to kernel_info_reply (median of ${opt.starts})`, ts.coldMedianMs, py.coldMedianMs, 'ms'],
    [`1+1 round trip until idle, p50 (n=${opt.iters})`, ts.rttP50Ms, py.rttP50Ms, 'ms'],
    [`1+1 round trip until idle, p95 (n=${opt.iters})`, ts.rttP95Ms, py.rttP95Ms, 'ms'],
    [`kernel RSS after warm-up`, ts.rssMiB, py.rssMiB, 'MiB'],
  ];
  const fmt = (v: number, unit: string): string => `${v.toFixed(unit === 'ms' && v < 100 ? 2 : 1)} ${unit}`;
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const line = (a: string, b: string, c: string, d: string, e: string): string =>
    `${a.padEnd(w0)}  ${b.padStart(11)}  ${c.padStart(11)}  ${d.padStart(14)}  ${e}`;
  console.log('');
  console.log(line('metric', 'tsgpu', 'ipykernel', 'tsgpu/ipykernel', 'target'));
  console.log('-'.repeat(w0 + 2 + 11 + 2 + 11 + 2 + 14 + 2 + 14));
  let missed = 0;
  const ratios: Record<string, number> = {};
  for (const [name, a, b, unit] of rows) {
    const ratio = a / b;
    ratios[name] = ratio;
    const met = ratio <= 1.0;
    if (!met) missed++;
    console.log(line(name, fmt(a, unit), fmt(b, unit), `${ratio.toFixed(2)}x`, `<= 1.0x ${met ? 'met' : 'MISSED'}`));
  }
  console.log('');
  console.log(`cold starts (ms): tsgpu ${ts.coldStartsMs.map((x) => x.toFixed(0)).join(', ')}; ` +
    `ipykernel ${py.coldStartsMs.map((x) => x.toFixed(0)).join(', ')}`);
  console.log(`clean exits after shutdown_request: tsgpu ${ts.cleanShutdowns}/${ts.shutdowns}, ipykernel ${py.cleanShutdowns}/${py.shutdowns}`);
  console.log(`tfjs (@tensorflow) mapped into the tsgpu kernel process after warm-up: ${tfjsLoaded === null ? 'unknown' : tfjsLoaded ? 'YES' : 'no'}`);
  console.log(`targets met: ${rows.length - missed}/${rows.length}`);

  if (opt.json) {
    fs.mkdirSync(path.dirname(path.resolve(opt.json)), { recursive: true });
    fs.writeFileSync(opt.json, JSON.stringify({
      date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, loadavg: os.loadavg(),
      options: opt, results: res, ratios, tfjsLoadedInTsgpu: tfjsLoaded,
    }, null, 2));
    console.log(`wrote ${opt.json}`);
  }
  return opt.strict && missed > 0 ? 1 : 0;
}

main().then(
  (code) => {
    cleanupEnv();
    process.exitCode = code;
  },
  (err: unknown) => {
    cleanupEnv();
    console.error(`kernel bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
