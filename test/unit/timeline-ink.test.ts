// The timeline's GPU lane against the busy time it stands for: the ink drawn (each bar's width times
// its opacity, over the opacity a fully busy stretch gets) must equal the busy time at the axis's
// scale, which the test works out itself from the spans and the axis. Many short passes in a long
// cell are where a minimum bar width drew the GPU busy for most of the cell.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CellReport } from '../../kernel/display/report/cell-report';
import { reportTimeline } from '../../kernel/display/report/timeline';

/** The plot's drawable width in px (the SVG's width less its margins), read from its axis line. */
function axisPx(svg: string): number {
  const match = /<line x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)"/.exec(svg);
  assert.ok(match !== null, 'the lane has its axis line');
  return Number(match[2]) - Number(match[1]);
}

function gpuInkPx(svg: string): number {
  let ink = 0;
  for (const match of svg.matchAll(/class="tsgpu-gpu-span" x="[\d.]+" y="[\d.-]+" width="([\d.]+)" height="12" fill="#[0-9a-f]+" fill-opacity="([\d.]+)"/g)) {
    ink += Number(match[1]) * Number(match[2]) / 0.75;
  }
  return ink;
}

describe('report timeline: GPU ink in proportion to busy time', () => {
  for (const [what, count, passMs, cellMs] of [
    ['392 passes of 1.4 ms in a 7 s cell', 392, 1.4, 7000],
    ['20 passes of 50 ms in a 2 s cell', 20, 50, 2000],
  ] as const) {
    test(what, () => {
      const spans: [number, number][] = [];
      for (let i = 0; i < count; i++) {
        const start = (i + 0.5) * (cellMs / count);
        spans.push([start, start + passMs]);
      }
      const report = {
        durationMs: cellMs,
        transfers: [],
        devices: [{ device: 'gpu:0', ops: count, spans: [], gpu: { spans } }],
      } as unknown as CellReport;
      const svg = reportTimeline(report);
      const busyPx = count * passMs * axisPx(svg) / cellMs;
      const ink = gpuInkPx(svg);
      assert.ok(Math.abs(ink - busyPx) <= 0.02 * busyPx + 0.5,
        `the GPU lane's ink covers ${ink.toFixed(1)} px; ${count} × ${passMs} ms of ${cellMs} ms is ${busyPx.toFixed(1)} px`);
    });
  }
});
