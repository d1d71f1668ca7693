// %placement on: after each cell that ran ops, stdout lists where they ran, one line per op and
// device ("  Add ×10 on gpu:0"), never one per execution; %placement off stops it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { countOf, runOk, theReport, useReportKernel } from '../support/report';

/** The "placement (cell N):" block of a cell's stdout: its N and its indented lines. */
function placementBlock(stdout: string): { cell: number; lines: string[] } | undefined {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => /^placement \(cell \d+\):$/.test(line));
  if (start < 0) return undefined;
  const cell = Number(/\d+/.exec(lines[start] ?? '')?.[0]);
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!/^\s+\S/.test(line)) break;
    body.push(line);
  }
  return { cell, lines: body };
}

describe('inline report: %placement', () => {
  const kernel = useReportKernel();

  test('setup: a small tensor on gpu:0', async () => {
    await runOk(kernel(), "const p = tf.ones([8]);\nawait p.to('gpu:0');");
  });

  test('%placement on: "placement (cell N):" then "  Add ×10 on gpu:0", one line for ten executions', async () => {
    await runOk(kernel(), '%placement on');
    const exchange = await runOk(kernel(), 'let q = p;\nfor (let i = 0; i < 10; i++) q = q.add(p);\nawait q.data();');
    const stdout = streamText(exchange, 'stdout');
    const block = placementBlock(stdout);
    assert.ok(block !== undefined, `no "placement (cell N):" on stdout: ${JSON.stringify(stdout)}`);
    assert.equal(block.cell, countOf(exchange), 'N is the execution count');
    const addLines = block.lines.filter((line) => /\bAdd\b/.test(line));
    assert.deepEqual(addLines, ['  Add ×10 on gpu:0'], `one summarised line for the Adds: ${JSON.stringify(block.lines)}`);
    for (const line of block.lines) assert.match(line, /^ {2}\S+ ×\d+ on (cpu|gpu:\d+)$/, `every line is "  Op ×k on device": ${JSON.stringify(line)}`);
    theReport(exchange);
  });

  test('%placement on: ops on two devices give one line per op and device', async () => {
    const exchange = await runOk(kernel(), [
      'const onCpu = tf.ones([8]);',
      'for (let i = 0; i < 3; i++) onCpu.mul(onCpu);',
      'for (let i = 0; i < 4; i++) p.mul(p);',
    ].join('\n'));
    const block = placementBlock(streamText(exchange, 'stdout'));
    assert.ok(block !== undefined, `no placement block: ${JSON.stringify(streamText(exchange, 'stdout'))}`);
    const mulLines = block.lines.filter((line) => /\bMultiply\b|\bMul\b/.test(line)).sort();
    assert.equal(mulLines.length, 2, `one Multiply line per device: ${JSON.stringify(block.lines)}`);
    assert.match(mulLines.find((line) => line.endsWith('on cpu')) ?? '', /^ {2}(Multiply|Mul) ×3 on cpu$/);
    assert.match(mulLines.find((line) => line.endsWith('on gpu:0')) ?? '', /^ {2}(Multiply|Mul) ×4 on gpu:0$/);
  });

  test('%placement on: a cell that ran no ops prints no placement', async () => {
    const stdout = streamText(await runOk(kernel(), "console.log('no ops here')"), 'stdout');
    assert.equal(placementBlock(stdout), undefined, JSON.stringify(stdout));
  });

  test('%placement off: the next cell with ops prints no placement', async () => {
    await runOk(kernel(), '%placement off');
    const exchange = await runOk(kernel(), 'let r = p;\nfor (let i = 0; i < 10; i++) r = r.add(p);\nawait r.data();');
    const stdout = streamText(exchange, 'stdout');
    assert.doesNotMatch(stdout, /placement \(cell/, JSON.stringify(stdout));
    theReport(exchange);
  });
});
