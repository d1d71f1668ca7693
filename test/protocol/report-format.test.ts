// What the report looks like: the first line of text/plain, the HTML table and timeline, the
// stand-alone SVG only when something moved, and %report full | compact | off.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import {
  assertNoReport, assertSize, countOf, deviceOf, hintLines, htmlText, listItems, parseReportLine, Report, reportOf,
  reportTableOf, runOk, tableRows, theReport, timelineImageSvg, timelineIndex, useReportKernel,
} from '../support/report';

/**
 * One direction in the text line: "H2D 3× 12.0 KiB 0.5 ms (copy 0.4 ms, 31 µs/move)" or, for big
 * moves, "(copy 40.1 ms, 1.67 GB/s, wait 3.2 ms gpu:0 GPU work)".
 */
const DIRECTION = /^(H2D|D2H|D2D|host) (\d+)× ([\d.,]+ ?(?:B|KB|kB|MB|GB|KiB|MiB|GiB)) ([\d.]+ (?:ms|µs)) \(copy ([\d.]+ (?:ms|µs)), ([\d.]+ GB\/s|[\d.]+ (?:ms|µs)\/move)(?:, wait (.+))?\)$/;

/** "12.5 ms" or "310 µs" in ms. */
function durationMs(text: string): number {
  const [value = '', unit] = text.split(' ');
  return unit === 'µs' ? Number(value) / 1000 : Number(value);
}

function assertTextMatchesMetadata(report: Report): void {
  const [first = ''] = report.text.split('\n');
  const line = parseReportLine(first);
  assert.equal(line.cell, report.meta.cell, 'N in "[tsgpu] cell N" is the execution count');
  // devices with op counts
  for (const use of report.meta.devices.filter((entry) => entry.ops > 0)) {
    const name = use.device.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.match(line.devices, new RegExp(`(^|[ ,])${name}\\b[^,|]*?\\b${use.ops} ops?\\b`),
      `the devices part names ${use.device} with its ${use.ops} ops: ${JSON.stringify(line.devices)}`);
  }
  // per direction: count, bytes, ms, GB/s
  const directions = new Map<string, { count: number; bytes: number; ms: number; copyMs: number }>();
  for (const transfer of report.meta.transfers) {
    const sum = directions.get(transfer.direction) ?? { count: 0, bytes: 0, ms: 0, copyMs: 0 };
    directions.set(transfer.direction, { count: sum.count + 1, bytes: sum.bytes + transfer.bytes, ms: sum.ms + transfer.ms, copyMs: sum.copyMs + transfer.copyMs });
  }
  const parts = directions.size === 0 ? [] : line.transfers.split(/\s*;\s*/);
  assert.equal(parts.length, directions.size, `one entry per direction in ${JSON.stringify(line.transfers)}`);
  for (const part of parts) {
    const match = DIRECTION.exec(part);
    assert.ok(match !== null, `a direction entry is not like "H2D 3× 12.0 KiB 0.5 ms (copy 0.4 ms, 31 µs/move)": ${JSON.stringify(part)}`);
    const expected = directions.get(match[1] ?? '');
    assert.ok(expected !== undefined, `${match[1]} is not in metadata.tsgpu.transfers`);
    assert.equal(Number(match[2]), expected.count, `count of ${match[1]}`);
    assertSize(match[3] ?? '', expected.bytes, `bytes of ${match[1]}`);
    // Moves one after another: their union is their sum.
    assert.ok(Math.abs(durationMs(match[4] ?? '') - expected.ms) <= Math.max(0.05 * expected.ms, 0.01), `ms of ${match[1]}: ${part} vs ${expected.ms}`);
    assert.ok(Math.abs(durationMs(match[5] ?? '') - expected.copyMs) <= Math.max(0.05 * expected.copyMs, 0.01), `copy ms of ${match[1]}: ${part} vs ${expected.copyMs}`);
  }
  // live memory per device
  assert.ok(line.live !== undefined, `no "| live …" part: ${JSON.stringify(first)}`);
  const gpu = report.meta.devices.find((use) => use.device === 'gpu:0');
  if (gpu !== undefined && gpu.liveBytes > 0) {
    const live = /(?:^|, )gpu:0 ([\d.,]+ ?(?:B|KB|kB|MB|GB|KiB|MiB|GiB))/.exec(line.live);
    assert.ok(live !== null, `live part names gpu:0 with a size: ${JSON.stringify(line.live)}`);
    assertSize(live[1] ?? '', gpu.liveBytes, 'live bytes of gpu:0');
  }
  assert.deepEqual(hintLines(report.text), report.meta.hints, 'one "  hint: …" line per hint, in order');
}

describe('inline report: text, HTML, SVG and %report', () => {
  const kernel = useReportKernel();

  test('text/plain: "[tsgpu] cell N: <devices with ops> | <per direction> | live gpu:0 …", then the hints', async () => {
    const exchange = await runOk(kernel(), "const f = tf.ones([256]);\nawait f.to('gpu:0');\nconst g = f.add(f);\nawait g.data();");
    const report = theReport(exchange);
    assert.ok(report.text.startsWith(`[tsgpu] cell ${countOf(exchange)}: `), report.text);
    assert.ok(deviceOf(report, 'gpu:0').ops >= 1, 'the Add ran on gpu:0');
    assert.deepEqual(report.meta.transfers.map((transfer) => [transfer.direction, transfer.bytes]), [['H2D', 1024], ['D2H', 1024]]);
    assertTextMatchesMetadata(report);
    assert.match(report.text.split('\n')[0] ?? '', /\bH2D 1× /);
    assert.match(report.text.split('\n')[0] ?? '', /\bD2H 1× /);
  });

  test('text/html: div.tsgpu-report with table.tsgpu-report-table (devices, transfers with line), hints as <li>, then svg.tsgpu-timeline', async () => {
    const report = await reportOf(kernel(), "const h = tf.ones([64]);\nawait h.to('gpu:0');\nconst hh = h.mul(h);\nawait hh.data();");
    assert.match(report.html, /<div\b[^>]*\bclass="[^"]*\btsgpu-report\b/, 'a div.tsgpu-report');
    const table = reportTableOf(report.html);
    assert.ok(table !== undefined, `no table.tsgpu-report-table in ${report.html.slice(0, 300)}`);
    const rows = tableRows(table);
    const gpuRow = rows.find((cells) => /^gpu:0\b/.test(cells[0] ?? ''));
    assert.ok(gpuRow !== undefined, `a row for gpu:0: ${JSON.stringify(rows)}`);
    assert.ok(gpuRow.includes(String(deviceOf(report, 'gpu:0').ops)), `the gpu:0 row shows its op count: ${JSON.stringify(gpuRow)}`);
    for (const direction of ['H2D', 'D2H']) {
      const row = rows.find((cells) => cells[0] === direction);
      assert.ok(row !== undefined, `a row for ${direction}: ${JSON.stringify(rows)}`);
      assert.ok(row.includes('1'), `${direction} count 1: ${JSON.stringify(row)}`);
      // A move this small gets its latency, not a rate.
      assert.ok(row.some((cell) => /^[\d.]+ (µs|ms)\/move$/.test(cell)), `${direction} latency per move: ${JSON.stringify(row)}`);
      assert.ok(!row.some((cell) => /GB\/s/.test(cell)), `${direction}: no GB/s for 256 B: ${JSON.stringify(row)}`);
      assert.ok(row.some((cell) => /^[\d.]+ (ms|µs)$/.test(cell)), `${direction} time: ${JSON.stringify(row)}`);
    }
    assert.match(htmlText(table), /\bline 2\b/, 'the H2D row says which line caused it');
    assert.match(htmlText(table), /\bline 4\b/, 'the D2H row says which line caused it');
    assert.deepEqual(listItems(report.html), report.meta.hints, 'the hints as <li>, same text as metadata');
    const svgAt = timelineIndex(report.html);
    assert.ok(svgAt >= 0, 'an img.tsgpu-timeline');
    assert.ok(svgAt > report.html.indexOf('</table>'), 'the timeline follows the table');
  });

  test('image/svg+xml: the same timeline, present when there were transfers', async () => {
    const report = await reportOf(kernel(), "const s = tf.ones([32]);\nawait s.to('gpu:0');");
    assert.ok(report.svg !== undefined, `no image/svg+xml: ${Object.keys(report.content.data).join(', ')}`);
    assert.match(report.svg.trim(), /^(<\?xml[^>]*>\s*)?<svg\b/, 'an svg document');
    assert.match(report.svg, /<svg\b[^>]*\bclass="[^"]*\btsgpu-timeline\b/);
    assert.match(report.svg.trim(), /<\/svg>$/);
    assert.equal(timelineImageSvg(report.html), report.svg, 'the HTML shows the same SVG as an image (its data URI)');
  });

  test('no image/svg+xml and no timeline when the cell ran ops but moved nothing', async () => {
    const report = await reportOf(kernel(), 'tf.ones([4]).add(tf.ones([4]))');
    assert.deepEqual(report.meta.transfers, []);
    assert.equal(report.svg, undefined, 'image/svg+xml only for cells with transfers');
    assert.equal(timelineIndex(report.html), -1, 'no timeline in the HTML');
    assert.ok(reportTableOf(report.html) !== undefined, 'still the table');
    const line = parseReportLine(report.text.split('\n')[0] ?? '');
    assert.match(line.devices, /\bcpu\b.*\b\d+ ops?\b/, `the cpu's ops: ${JSON.stringify(line.devices)}`);
  });

  test('%report prints the mode (full by default)', async () => {
    assert.match(streamText(await runOk(kernel(), '%report'), 'stdout'), /\bfull\b/);
  });

  test('%report compact: the table but no SVG, inline or as image/svg+xml', async () => {
    const exchange = await runOk(kernel(), '%report compact');
    assertNoReport(exchange, '%report compact');
    assert.match(streamText(await runOk(kernel(), '%report'), 'stdout'), /\bcompact\b/);
    const report = await reportOf(kernel(), "const c = tf.ones([32]);\nawait c.to('gpu:0');");
    assert.equal(report.meta.transfers.length, 1);
    assert.ok(reportTableOf(report.html) !== undefined, 'the table');
    assert.equal(timelineIndex(report.html), -1, 'no inline timeline');
    assert.equal(report.svg, undefined, 'no image/svg+xml');
    assert.match(report.text, /^\[tsgpu\] cell \d+: /);
  });

  test('%report off: no report at all, even for a cell that moves tensors', async () => {
    assertNoReport(await runOk(kernel(), '%report off'), '%report off');
    assert.match(streamText(await runOk(kernel(), '%report'), 'stdout'), /\boff\b/);
    const code = "const o = tf.ones([32]);\nawait o.to('gpu:0');\no.add(o).device";
    assertNoReport(await runOk(kernel(), code), code);
  });

  test('%report full: the report comes back with table, inline timeline and image/svg+xml', async () => {
    assertNoReport(await runOk(kernel(), '%report full'), '%report full');
    assert.match(streamText(await runOk(kernel(), '%report'), 'stdout'), /\bfull\b/);
    // `%report on` after `%report off`, as a user writes it: the default, full.
    await runOk(kernel(), '%report off');
    assert.equal(streamText(await runOk(kernel(), '%report on'), 'stdout'), 'report: full\n');
    assert.match(streamText(await runOk(kernel(), '%report'), 'stdout'), /\bfull\b/);
    const report = await reportOf(kernel(), "const back = tf.ones([32]);\nawait back.to('gpu:0');");
    assert.ok(reportTableOf(report.html) !== undefined);
    assert.ok(timelineIndex(report.html) >= 0);
    assert.ok(report.svg !== undefined);
  });
});
