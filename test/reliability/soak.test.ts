// Soaks: many cells sent one after another to one kernel, as a long notebook session does.
// On gpu:0 (lavapipe here and in CI), 1,000 cells allocate a tensor and rebind the same name:
// every reply must arrive, %memory's live bytes on gpu:0 must stay flat (the old x and the
// intermediate are garbage once no name refers to them), and the kernel's RSS growth must stay
// bounded. Without tensors, 2,000 cells of `1`: RSS must stay near where it started (it grew
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
const IDLE_PAUSE_MS = 1500;

const GPU_CELLS = 1000;
const GPU_CELL = 'x = tf.randomNormal([64, 64]).add(1); 0';
const TENSOR_BYTES = 64 * 64 * 4;
/** Live bytes may end this far above where they started (two tensors' worth of rounding and timing). */
const LIVE_SLACK = 2 * TENSOR_BYTES;
const GPU_RSS_GROWTH_LIMIT = 150 * MiB;

const PLAIN_CELLS = 2000;
const PLAIN_CELL = '1';
/** Measured: 25–28 MiB over 2,000 cells (garbage a full GC has not collected yet, mostly); twice that. */
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
async function soak(kernel: KernelClient, code: string, cells: number, findings: Findings,
  every250: (cell: number) => Promise<void>): Promise<{ replies: number; seconds: number }> {
  let replies = 0;
  const started = performance.now();
  for (let i = 1; i <= cells; i++) {
    const exchange = await kernel.execute(code, {}, { timeoutMs: CELL_TIMEOUT_MS }).catch((error: Error) => error);
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
  test(`${GPU_CELLS} cells rebinding a tensor on gpu:0: every reply, flat GPU live bytes, bounded RSS`, async (t) => {
    const kernel = await hostileKernel(t, { readyTimeoutMs: HOSTILE_READY_MS, env: { MESA_SHADER_CACHE_DIR: SHADER_CACHE_DIR } });
    assert.match(await run(kernel, '%device gpu:0'), /gpu:0/);
    await run(kernel, 'let x = tf.randomNormal([64, 64])');
    await run(kernel, GPU_CELL); // compiles the shaders: not part of the measurement
    const liveStart = await gpuLive(kernel);
    const rssStart = rssBytes(kernel.pid);
    const findings = new Findings();
    const trace: string[] = [];
    const { replies, seconds } = await soak(kernel, GPU_CELL, GPU_CELLS, findings, async (i) => {
      trace.push(`${i}: live ${(await gpuLive(kernel)) / 1024} KiB, RSS ${mib(rssBytes(kernel.pid))}`);
    });
    const liveBeforeIdle = await gpuLive(kernel);
    // Intermediates no name held are freed by a full GC once the kernel idles a moment (not after
    // every cell: a full GC costs 10–250 ms), so the flat figure is the one after a pause.
    await sleep(IDLE_PAUSE_MS);
    const liveEnd = await gpuLive(kernel);
    const rssEnd = rssBytes(kernel.pid);
    findings.check(liveEnd <= liveStart + LIVE_SLACK, `gpu:0 live bytes grew from ${liveStart} B to ${liveEnd} B `
      + `(+${liveEnd - liveStart} B = ${((liveEnd - liveStart) / TENSOR_BYTES).toFixed(1)} tensors of ${TENSOR_BYTES} B over ${replies} cells)`);
    findings.check(rssEnd - rssStart < GPU_RSS_GROWTH_LIMIT, `kernel RSS grew ${mib(rssEnd - rssStart)} (limit ${mib(GPU_RSS_GROWTH_LIMIT)})`);
    t.diagnostic(`${replies}/${GPU_CELLS} replies in ${seconds.toFixed(1)} s (${(1000 * seconds / Math.max(1, replies)).toFixed(1)} ms per cell)`);
    t.diagnostic(`gpu:0 live bytes: start ${liveStart} B, right after the last cell ${liveBeforeIdle} B, after ${IDLE_PAUSE_MS} ms idle ${liveEnd} B (${liveEnd - liveStart >= 0 ? '+' : ''}${liveEnd - liveStart} B)`);
    t.diagnostic(`kernel RSS: start ${mib(rssStart)}, end ${mib(rssEnd)} (growth ${mib(rssEnd - rssStart)})`);
    t.diagnostic(`every 250 cells: ${trace.join('; ')}`);
    findings.assertNone(`kernel stderr (tail):\n${kernel.kernelOutput().slice(-2000)}`);
  });

  test(`${PLAIN_CELLS} cells of \`${PLAIN_CELL}\`: every reply, RSS growth under ${PLAIN_RSS_GROWTH_LIMIT / MiB} MiB`, async (t) => {
    const kernel = await hostileKernel(t, { readyTimeoutMs: HOSTILE_READY_MS });
    // Warm-up: the checker's standard library, the first transpile, V8's optimised code.
    for (let i = 0; i < 50; i++) await run(kernel, PLAIN_CELL);
    const rssStart = rssBytes(kernel.pid);
    const findings = new Findings();
    const trace: string[] = [];
    const { replies, seconds } = await soak(kernel, PLAIN_CELL, PLAIN_CELLS, findings, async (i) => {
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
