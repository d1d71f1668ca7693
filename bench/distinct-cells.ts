// Memory of a kernel's interpreter over many distinct cells (`${i} + 1`): drives the interpreter
// in-process, as the kernel does, and prints the heap after a full GC every `--step` cells.
// `--snapshot DIR` writes heap snapshots there at each step.
//   node --expose-gc dist/bench/distinct-cells.js [--cells 1000] [--step 250] [--snapshot DIR]
import path from 'node:path';
import v8 from 'node:v8';
import fs from 'node:fs';
import os from 'node:os';
import type ts from 'typescript';
import { TypeScriptInterpreter } from '../kernel/interpreter/typescript/typescript-interpreter';
import { createMagics } from '../magics/index';

const arg = (name: string, fallback: number): number => process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback;
const cells = arg('--cells', 1000);
const step = arg('--step', 250);
const snapshots = process.argv.includes('--snapshot') ? process.argv[process.argv.indexOf('--snapshot') + 1]! : null;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

async function main(): Promise<void> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-distinct-'));
  const noDevices = (): never => { throw new Error('no device layer here'); };
  const interpreter = new TypeScriptInterpreter({
    ts: require('typescript') as typeof ts,
    directory,
    magics: createMagics(),
    hooks: { prepare: async () => [], beforeRun: () => {}, afterRun: async () => null, faults: async () => null },
    emit: () => {},
    requestInput: async () => '',
    devices: noDevices,
    synchronize: async () => {},
    transferTotals: () => ({ toDevice: 0, toHost: 0, bytesToDevice: 0, bytesToHost: 0 }) as never,
    cells: { settle: async () => {}, run: (cell) => (cell as () => unknown).call(globalThis) },
  });
  interpreter.warmUp();
  const options = { silent: false, storeHistory: true, allowStdin: false, executionCount: 0 };
  for (let i = 1; i <= cells; i++) {
    const outcome = await interpreter.execute(`${i} + 1`, { ...options, executionCount: i }, () => {});
    if (outcome.status !== 'ok') throw new Error(`cell ${i}: ${JSON.stringify(outcome)}`);
    // What the kernel does once idle after its first cell: Node's declarations join the checker.
    if (i === 1) (interpreter as unknown as { checker: { loadDeferredTypes(): void } }).checker.loadDeferredTypes();
    if (i % step === 0) {
      // An experiment only: how much of what stays is the per-cell source mappers (never do this in the kernel).
      if (process.argv.includes('--drop-mappers')) (interpreter as unknown as { cells: Map<string, unknown> }).cells.clear();
      gc!(); gc!();
      const heap = process.memoryUsage();
      const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
      const spaces = v8.getHeapSpaceStatistics().map((space) => `${space.space_name.replace('_space', '')} ${mib(space.space_used_size)}/${mib(space.space_size)}`).join(', ');
      console.log(`${i} cells: heap after GC ${mib(heap.heapUsed)} MiB (of ${mib(heap.heapTotal)}), external ${mib(heap.external)}, rss ${mib(heap.rss)} MiB; ${spaces}`);
      if (snapshots) v8.writeHeapSnapshot(path.join(snapshots, `cells-${i}.heapsnapshot`));
    }
  }
}
void main();
