// Soaks: many cells sent one after another to one kernel, as a long notebook session does.
// On gpu:0 (lavapipe here and in CI), 1,000 cells mix rebinding a name, closures that keep a
// tensor, Map values replaced, and intermediates no name holds: every reply must arrive, every
// tensor still reachable must be intact (checksummed), %memory's live bytes on gpu:0 must come
// back to where they started plus what is still held, and the kernel's RSS growth must stay bounded. Without tensors, 2,000 cells of `1`: RSS must stay near where it started (it grew
// ~150 KiB per cell while each cell built a TypeScript program for its transpile and kept a
// vm.Script in V8's compilation cache).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { liveBytes, SHADER_CACHE_DIR } from '../support/devices';
import { executeReply, streamText } from '../support/exchange';
import { Findings, hostileKernel, HOSTILE_READY_MS, MiB, mib, rssBytes } from '../support/hostile';
import type { KernelClient } from '../support/kernel-client';
import { sleep } from '../support/time';

const CELL_TIMEOUT_MS = 60_000;
/** Longer than the idle delay before the finalizing GC (200 ms) plus the GC itself on a busy machine. */
const IDLE_PAUSE_MS = 500;
const IDLE_PAUSES = 30;

const GPU_CELLS = 1000;
/**
 * The soak's cell: four kinds of tensor work in turn, by the cell's number n. One text for all of
 * them, so the soak measures tensors: four texts in rotation measured 140 ms and ~0.5 MiB of RSS a
 * cell in the type checker (every cell is checked anew when it differs from the one before).
 */
const GPU_CELL = [
  'n++;',
  'if (n % 4 === 0) x = tf.randomNormal([64, 64]).add(1);',
  'else if (n % 4 === 1) keepers.push(((held) => () => held)(tf.fill([4], n).add(0)));',
  'else if (n % 4 === 2) heldMap.set(n % 50, tf.scalar(n).mul(2));',
  'else scratch = x.matMul(x).sum();',
  '0',
].join('\n');
const TENSOR_BYTES = 64 * 64 * 4;
/** What the closures and the Map still hold at the end: 250 tensors of 4 floats, 50 scalars. */
const HELD_BYTES = (GPU_CELLS / 4) * 16 + 50 * 4;
/** Live bytes may end this far above where they started plus what is held (two tensors' worth of rounding and timing). */
const LIVE_SLACK = HELD_BYTES + 2 * TENSOR_BYTES;
/**
 * Measured on lavapipe: +31 MiB over these 1,000 cells with `%report off` (when it also stopped the
 * GPU clock; it no longer does), +117..176 MiB with the report and its GPU clock on. After a full GC the JS heap's used size stays flat (113 → 116 MiB
 * over 900 cells) while V8's reserved heap (heapTotal) grows, 146 → 182 MiB, and RSS with it:
 * space V8 took for garbage and has not handed back, not live data. Which allocations drive it is
 * not found yet. The limit guards against anything worse. With the report on is how notebooks run.
 */
const GPU_RSS_GROWTH_LIMIT = 250 * MiB;

const PLAIN_CELLS = 2000;
const PLAIN_CELL = '1';
/**
 * Measured: 25–28 MiB over 2,000 cells (garbage a full GC has not collected yet, mostly); twice that.
 * With the kept type checker (resident-checker.ts) 19–22 MiB: it checks an unchanged cell once. When
 * it checked each run anew, 46–58 MiB: every check left its parsed cell in the checker until the
 * checker was replaced, long enough to be promoted, and V8 grew its old generation rather than collect.
 */
const PLAIN_RSS_GROWTH_LIMIT = 56 * MiB;

async function run(kernel: KernelClient, code: string): Promise<string> {
  const exchange = await kernel.execute(code, {}, { timeoutMs: CELL_TIMEOUT_MS });
  const reply = executeReply(exchange);
  assert.equal(reply.status, 'ok', `${JSON.stringify(code)} failed: ${JSON.stringify(reply).slice(0, 500)}`);
  return streamText(exchange, 'stdout');
}

async function gpuLive(kernel: KernelClient): Promise<number> {
  return liveBytes(await run(kernel, '%memory'), 'gpu:0').bytes;
}

/**
 * Sends `cells` copies of `code`, stopping at the first failure; `every250` runs after each 250th
 * cell (for a trace line). Returns the replies that arrived and the seconds they took.
 */
async function soak(kernel: KernelClient, code: (i: number) => string, cells: number, findings: Findings,
  every250: (cell: number) => Promise<void>): Promise<{ replies: number; seconds: number }> {
  let replies = 0;
  const started = performance.now();
  for (let i = 1; i <= cells; i++) {
    const exchange = await kernel.execute(code(i), {}, { timeoutMs: CELL_TIMEOUT_MS }).catch((error: Error) => error);
    if (exchange instanceof Error) {
      findings.check(false, `cell ${i}: ${exchange.message.split('\n')[0]}`);
      break;
    }
    replies++;
    const reply = executeReply(exchange);
    if (!findings.check(reply.status === 'ok', `cell ${i}: ${JSON.stringify(reply).slice(0, 300)}`)) break;
    if (i % 250 === 0) await every250(i);
  }
  findings.check(replies === cells, `${replies}/${cells} replies`);
  return { replies, seconds: (performance.now() - started) / 1000 };
}

describe('soak', () => {
  test(`${GPU_CELLS} cells rebinding, closing over and dropping tensors on gpu:0: every reply, held tensors intact, flat GPU live bytes, bounded RSS`, async (t) => {
    const kernel = await hostileKernel(t, { readyTimeoutMs: HOSTILE_READY_MS, env: { MESA_SHADER_CACHE_DIR: SHADER_CACHE_DIR } });
    assert.match(await run(kernel, '%device gpu:0'), /gpu:0/);
    await run(kernel, 'process.pid > 0'); // loads Node's declarations now, not during the measurement
    await run(kernel, 'let n = 0;\nlet x = tf.randomNormal([64, 64]);\nlet scratch = x.sum();\nconst keepers: (() => ReturnType<typeof tf.ones>)[] = [];\nconst heldMap = new Map<number, ReturnType<typeof tf.ones>>();');
    // Compiles the shaders: not part of the measurement.
    for (let i = 0; i < 4; i++) await run(kernel, GPU_CELL);
    await run(kernel, 'n = 0;\nkeepers.length = 0;\nheldMap.clear(); 0');
    await run(kernel, '%gc');
    const liveStart = await gpuLive(kernel);
    const rssStart = rssBytes(kernel.pid);
    const findings = new Findings();
    const trace: string[] = [];
    const { replies, seconds } = await soak(kernel, () => GPU_CELL, GPU_CELLS, findings, async (i) => {
      trace.push(`${i}: live ${(await gpuLive(kernel)) / 1024} KiB, RSS ${mib(rssBytes(kernel.pid))}`);
    });
    const liveBeforeIdle = await gpuLive(kernel);
    // Intermediates no name held are freed by a full GC once the kernel idles a moment (not after
    // every cell: a full GC costs 10–250 ms), so the flat figure is the one after a pause.
    let liveEnd = liveBeforeIdle;
    let pauses = 0;
    for (; pauses < IDLE_PAUSES && liveEnd > liveStart + LIVE_SLACK; pauses++) {
      await sleep(IDLE_PAUSE_MS);
      liveEnd = await gpuLive(kernel);
    }
    const rssEnd = rssBytes(kernel.pid);
    findings.check(liveEnd <= liveStart + LIVE_SLACK, `gpu:0 live bytes grew from ${liveStart} B to ${liveEnd} B `
      + `(+${liveEnd - liveStart} B, of which ${HELD_BYTES} B are still held, over ${replies} cells)`);
    // Every tensor a closure or the Map still holds, checksummed against what its cell made.
    const sums = await run(kernel, 'let keptSum = 0;\nfor (const keeper of keepers) keptSum += (await keeper().sum().data())[0]!;\n'
      + 'let mapSum = 0;\nfor (const value of heldMap.values()) mapSum += (await value.data())[0]!;\nconsole.log(keepers.length, keptSum, heldMap.size, mapSum)');
    const closureCells = Array.from({ length: GPU_CELLS }, (_, k) => k + 1).filter((i) => i % 4 === 1);
    const mapCells = new Map(Array.from({ length: GPU_CELLS }, (_, k) => k + 1).filter((i) => i % 4 === 2).map((i) => [i % 50, i]));
    const expected = `${closureCells.length} ${closureCells.reduce((sum, i) => sum + 4 * i, 0)} ${mapCells.size} ${[...mapCells.values()].reduce((sum, i) => sum + 2 * i, 0)}`;
    findings.check(sums.trim() === expected, `held tensors: got "${sums.trim()}", expected "${expected}" (count, sum over closures; count, sum over the Map)`);
    findings.check(rssEnd - rssStart < GPU_RSS_GROWTH_LIMIT, `kernel RSS grew ${mib(rssEnd - rssStart)} (limit ${mib(GPU_RSS_GROWTH_LIMIT)})`);
    t.diagnostic(`${replies}/${GPU_CELLS} replies in ${seconds.toFixed(1)} s (${(1000 * seconds / Math.max(1, replies)).toFixed(1)} ms per cell)`);
    t.diagnostic(`gpu:0 live bytes: start ${liveStart} B, right after the last cell ${liveBeforeIdle} B, after ${pauses} idle pauses of ${IDLE_PAUSE_MS} ms ${liveEnd} B (${liveEnd - liveStart >= 0 ? '+' : ''}${liveEnd - liveStart} B)`);
    t.diagnostic(`kernel RSS: start ${mib(rssStart)}, end ${mib(rssEnd)} (growth ${mib(rssEnd - rssStart)})`);
    t.diagnostic(`every 250 cells: ${trace.join('; ')}`);
    findings.assertNone(`kernel stderr (tail):\n${kernel.kernelOutput().slice(-2000)}`);
  });

  test(`${PLAIN_CELLS} cells of \`${PLAIN_CELL}\`: every reply, RSS growth under ${PLAIN_RSS_GROWTH_LIMIT / MiB} MiB`, async (t) => {
    const kernel = await hostileKernel(t, { readyTimeoutMs: HOSTILE_READY_MS });
    // Warm-up: the checker's standard library and Node's declarations (a cell naming a Node global
    // loads those the checker defers until the kernel idles), the first transpile, V8's optimised code.
    await run(kernel, 'process.pid > 0');
    for (let i = 0; i < 50; i++) await run(kernel, PLAIN_CELL);
    const rssStart = rssBytes(kernel.pid);
    const findings = new Findings();
    const trace: string[] = [];
    const { replies, seconds } = await soak(kernel, () => PLAIN_CELL, PLAIN_CELLS, findings, async (i) => {
      trace.push(`${i}: ${mib(rssBytes(kernel.pid))}`);
    });
    const rssEnd = rssBytes(kernel.pid);
    findings.check(rssEnd - rssStart < PLAIN_RSS_GROWTH_LIMIT,
      `kernel RSS grew ${mib(rssEnd - rssStart)} over ${replies} cells (${((rssEnd - rssStart) / 1024 / Math.max(1, replies)).toFixed(1)} KiB per cell; limit ${mib(PLAIN_RSS_GROWTH_LIMIT)})`);
    t.diagnostic(`${replies}/${PLAIN_CELLS} replies in ${seconds.toFixed(1)} s (${(1000 * seconds / Math.max(1, replies)).toFixed(2)} ms per cell)`);
    t.diagnostic(`kernel RSS: start ${mib(rssStart)}, end ${mib(rssEnd)} (growth ${mib(rssEnd - rssStart)}, ${((rssEnd - rssStart) / 1024 / Math.max(1, replies)).toFixed(1)} KiB per cell)`);
    t.diagnostic(`RSS every 250 cells: ${trace.join('; ')}`);
    findings.assertNone(`kernel stderr (tail):\n${kernel.kernelOutput().slice(-2000)}`);
  });
});
