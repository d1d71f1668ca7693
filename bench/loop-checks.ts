// What the interrupt check at each iteration of a cell's own loops costs (cell-context.ts loopTick,
// inserted by text-emit.ts): loops emitted as cells are, timed with the check and with it taken
// out, in one process, alternating, median of --reps. The check lets an interrupt stop a loop that
// runs after the cell's first await (outside the run SIGINT can break); see README "Interrupting".
//
//   npm run bench:loop-checks [-- --reps 5]
//
// The worst case is the tightest loop over local integers, which V8 otherwise runs at a fraction
// of a ns per iteration: the check's read is then most of the time. A cell's top-level variables
// are globals (slower either way), and loops that do work per iteration barely notice.
import { performance } from 'node:perf_hooks';
import vm from 'node:vm';
import ts from 'typescript';
import { loopLine, loopTick } from '../kernel/interpreter/cell-context';
import { LOOP_CHECK, RUNTIME } from '../kernel/interpreter/typescript/cell-rewrite';
import { emitCellStrict } from '../kernel/interpreter/typescript/transpile';
import { median, repsOption } from './lib/kernels';

const LOOPS: [string, string][] = [
  ['sum of 1e7 floats (for…of)', 'const values = (globalThis as any).benchValues as Float64Array;\nawait null;\nlet total = 0;\nfor (const v of values) total += v;\ntotal'],
  ['1e8 float adds at the top level', 'await null;\nlet sum = 0;\nfor (let i = 0; i < 1e8; i++) sum += i * 0.5;\nsum'],
  ['1e8 float adds in a function', 'function sumHalves(n: number): number { let s = 0; for (let i = 0; i < n; i++) s += i * 0.5; return s; }\nawait null;\nsumHalves(1e8)'],
  ['sum of 1e7 floats in a function', 'function total(values: Float64Array): number { let t = 0; for (const v of values) t += v; return t; }\nawait null;\ntotal((globalThis as any).benchValues)'],
  ['1e7 × Math.sin into a Float32Array', 'await null;\nconst out = new Float32Array(1e7);\nfor (let i = 0; i < 1e7; i++) out[i] = Math.sin(i) * 2;\nout[5]'],
  ['1e6 objects pushed', 'await null;\nconst points: { x: number; y: number }[] = [];\nfor (let i = 0; i < 1e6; i++) points.push({ x: i, y: i * 2 });\npoints.length'],
  ['5e7 integer adds in a function (worst case)', 'function intSum(n: number): number { let s = 0; for (let i = 0; i < n; i++) s = (s + i) | 0; return s; }\nawait null;\nintSum(5e7)'],
  ['200×200 matrix product, three loops', 'function product(n: number): number { const a = new Float64Array(n * n).fill(1), b = new Float64Array(n * n).fill(2), c = new Float64Array(n * n);\n  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) { const x = a[i * n + k]!; for (let j = 0; j < n; j++) c[i * n + j] += x * b[k * n + j]!; }\n  return c[0]!; }\nawait null;\nproduct(200)'],
  ['1e8 integer adds (while)', 'await null;\nlet i = 0, acc = 0;\nwhile (i < 1e8) { acc = (acc + i) | 0; i++; }\nacc'],
];

async function main(): Promise<void> {
  const reps = repsOption(process.argv.slice(2), 5, 'usage: node dist/bench/loop-checks.js [--reps N]');
  // What the kernel's runtime gives the cells (runtime.ts), over shared memory as the protocol worker's line is.
  loopLine.pending = new Int32Array(new SharedArrayBuffer(4));
  Object.defineProperty(globalThis, RUNTIME, { value: { line: loopLine, loop: loopTick }, configurable: true });
  (globalThis as { benchValues?: Float64Array }).benchValues = Float64Array.from({ length: 1e7 }, (_, i) => i / 3);
  console.log(`loops emitted as cells, with the interrupt check and without it; median of ${reps}`);
  console.log(`${'loop'.padEnd(40)}${'without ms'.padStart(12)}${'with ms'.padStart(10)}${'ratio'.padStart(8)}`);
  for (const [name, code] of LOOPS) {
    const emitted = emitCellStrict(ts, code);
    if (!emitted) throw new Error(`${name}: the text path did not emit it`);
    const check = LOOP_CHECK;
    if (!emitted.functionBody.includes(check)) throw new Error(`${name}: no loop check in ${emitted.functionBody}`);
    const withCheck = vm.compileFunction(emitted.functionBody) as () => Promise<unknown>;
    const without = vm.compileFunction(emitted.functionBody.split(check).join('')) as () => Promise<unknown>;
    const timed = async (run: () => Promise<unknown>): Promise<number> => {
      const started = performance.now();
      await run();
      return performance.now() - started;
    };
    const [plain, checked]: number[][] = [[], []];
    for (let rep = 0; rep < reps; rep++) {
      plain.push(await timed(without));
      checked.push(await timed(withCheck));
    }
    const [a, b] = [median(plain), median(checked)];
    console.log(`${name.padEnd(40)}${a.toFixed(1).padStart(12)}${b.toFixed(1).padStart(10)}${`${(b / a).toFixed(2)}x`.padStart(8)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
