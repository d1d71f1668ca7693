// A machine with two GPUs, as a notebook sees it. TSGPU_GPU_DUPLICATE=2 opens this machine's one
// adapter (lavapipe in CI) twice: gpu:0 and gpu:1 are two real Dawn devices with their own queues
// and memory. Each is named by %devices and by the errors; %device gpu:1, withDevice and
// model.to('gpu:1') put work there; a move between them goes through the host in chunks and is
// recorded once with both legs; two GPUs in one op are refused, naming both; a model trained on
// gpu:1 gives gpu:0's losses; the report draws a lane per device.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assertTransfer, countOf, describeOutcome, deviceLine, errorOf, printed, runOk, SHADER_CACHE_DIR, transferLines, valueOf,
} from '../support/devices';
import { setTimeout as sleep } from 'node:timers/promises';
import { executeReply, resultText, streamText } from '../support/exchange';
import { BYTE_HELPERS } from '../support/gpu-cell';
import { freshKernel, useKernel } from '../support/fixtures';
import { deviceOf, reportsOf, readReport, type ReportTransfer, theReport } from '../support/report';
import type { ContentOf } from '../support/message-schema';

/** 1 MiB staging chunks: a few MiB cross in several chunks each way without costing CI much memory. */
const STAGING = '1x2';

const HELPERS = BYTE_HELPERS;

/** The D2D moves of a report, in order. */
function gpuToGpu(transfers: readonly ReportTransfer[]): ReportTransfer[] {
  return transfers.filter((transfer) => transfer.direction === 'D2D');
}

describe('two GPUs (TSGPU_GPU_DUPLICATE=2)', () => {
  const kernel = useKernel({ readyTimeoutMs: 60_000, env: { MESA_SHADER_CACHE_DIR: SHADER_CACHE_DIR, TSGPU_GPU_DUPLICATE: '2', TSGPU_STAGING: STAGING } });

  test('%devices names gpu:0 and gpu:1, gpu:1 as gpu:0\'s adapter opened again; %device gpu:1, cuda:1 and withDevice put new tensors there; gpu:9 is refused listing them', async () => {
    const table = await printed(kernel(), '%devices');
    const zero = deviceLine(table, 'gpu:0');
    const one = deviceLine(table, 'gpu:1');
    assert.ok(zero !== undefined && one !== undefined, `%devices lists gpu:0 and gpu:1:\n${table}`);
    assert.doesNotMatch(zero, /TSGPU_GPU_DUPLICATE/, 'gpu:0 is the adapter itself');
    assert.match(one, /gpu:0's adapter opened again.*TSGPU_GPU_DUPLICATE/, 'gpu:1 says what it is');

    await runOk(kernel(), '%device gpu:1');
    assert.equal(await valueOf(kernel(), 'const onOne = tf.ones([3]);\nonOne.device'), "'gpu:1'");
    await runOk(kernel(), '%device cpu');
    assert.equal(await valueOf(kernel(), 'tf.ones([3]).device'), "'cpu'");
    assert.equal(await valueOf(kernel(), "await withDevice('cuda:1', async () => tf.zeros([3]).device)"), "'gpu:1'");
    assert.equal(await valueOf(kernel(), "await withDevice('gpu:0', async () => tf.zeros([3]).device)"), "'gpu:0'");
    const refused = await errorOf(kernel(), '%device gpu:9');
    assert.match(refused.evalue, /no device "gpu:9"/);
    assert.match(refused.evalue, /cpu, gpu:0, gpu:1/, 'the error lists the devices that exist');
    assert.equal(await valueOf(kernel(), 'onOne.device'), "'gpu:1'", 'the refused name changed nothing');
  });

  test('gpu:0 → gpu:1 → gpu:0 and gpu:1 → gpu:0 are bit-identical across chunks, each recorded once as one D2D move with both legs\' exact bytes', async () => {
    await runOk(kernel(), HELPERS);
    await runOk(kernel(), '%transfers reset');
    // 5 MiB + 12 B of float32 (6 chunks of 1 MiB) and an odd count of bools (4 bytes each on a GPU, 1 on the host).
    const floats = 5 * 2 ** 18 + 3;
    const bools = 300_001;
    const code = [
      `const floats = new Float32Array(bitPattern(${floats}, 7).buffer);`,
      `const bools = Uint8Array.from(bitPattern(${bools}, 11), (bits) => bits & 1);`,
      `const x = tf.tensor(floats, [${floats}]);`,
      `const y = tf.tensor(bools, [${bools}], 'bool');`,
      "await x.to('gpu:0');",
      "let started = performance.now(); await x.to('gpu:1'); const firstMs = performance.now() - started;",
      'const xThere = x.device;',
      "started = performance.now(); await x.to('gpu:0'); const backMs = performance.now() - started;",
      "await y.to('gpu:1');",
      "started = performance.now(); await y.to('gpu:0'); const boolMs = performance.now() - started;",
      'const yThere = y.device;',
      'await x.cpu(); await y.cpu();',
      'console.log(`awaited ${firstMs} ${backMs} ${boolMs}`);',
      '[xThere, yThere, sameBytes(x.dataSync() as Float32Array, floats), sameBytes(y.dataSync() as Uint8Array, bools)]',
    ].join('\n');
    const exchange = await runOk(kernel(), code);
    const result = exchange.iopub.find((message) => message.header.msg_type === 'execute_result');
    assert.equal((result?.content as ContentOf<'execute_result'> | undefined)?.data['text/plain'], "[ 'gpu:1', 'gpu:0', true, true ]",
      'each tensor reached the other GPU, and came back bit-identical');
    const report = theReport(exchange);
    const moves = gpuToGpu(report.meta.transfers);
    const floatBytes = floats * 4;
    const boolBytes = bools * 4;
    assert.deepEqual(moves.map((move) => [move.from, move.to, move.bytes, move.line]), [
      ['gpu:0', 'gpu:1', floatBytes, 6],
      ['gpu:1', 'gpu:0', floatBytes, 8],
      ['gpu:1', 'gpu:0', boolBytes, 10],
    ], 'one D2D record per move, with its exact bytes and line');
    // What the cell itself timed around each `await x.to(…)`: a move cannot have taken longer.
    const awaited = /awaited (\S+) (\S+) (\S+)/.exec(streamText(exchange, 'stdout'));
    assert.ok(awaited !== null, `the cell printed its own timings: ${streamText(exchange, 'stdout')}`);
    moves.forEach((move, index) => {
      const measured = Number(awaited[index + 1]);
      assert.ok(move.ms <= measured, `move ${index + 1} took ${move.ms} ms by the ledger, more than the ${measured} ms the cell waited for it`);
      assert.ok(move.legs?.every((leg) => leg.copyMs > 0), `each leg's copy took time: ${JSON.stringify(move.legs)}`);
    });
    for (const move of moves) {
      const legs = move.legs ?? [];
      assert.deepEqual(legs.map((leg) => [leg.from, leg.to, leg.bytes]), [[move.from, 'cpu', move.bytes], ['cpu', move.to, move.bytes]],
        `both legs go through the host with the move's bytes: ${JSON.stringify(move)}`);
      const sum = (pick: (leg: (typeof legs)[number]) => number): number => legs.reduce((total, leg) => total + pick(leg), 0);
      assert.ok(Math.abs(move.copyMs - sum((leg) => leg.copyMs)) < 1e-6, 'the move\'s copy time is its legs\' copies');
      assert.ok(Math.abs(move.waitMs - sum((leg) => leg.waitMs)) < 1e-6, 'the move\'s wait is its legs\' waits');
      assert.ok(Math.abs(move.ms - move.waitMs - move.copyMs) < 1e-6, 'ms is wait + copy');
    }
    // The moves between GPUs are not also recorded as their legs (a D2H and an H2D of their own).
    assert.deepEqual(report.meta.transfers.map((move) => `${move.direction} ${move.from}→${move.to}`), [
      'H2D cpu→gpu:0', 'D2D gpu:0→gpu:1', 'D2D gpu:1→gpu:0', 'H2D cpu→gpu:1', 'D2D gpu:1→gpu:0', 'D2H gpu:0→cpu', 'D2H gpu:0→cpu',
    ]);
    const listing = await printed(kernel(), '%transfers');
    const d2d = transferLines(listing).filter((line) => /\bD2D\b/.test(line));
    const cell = countOf(exchange);
    assertTransfer(d2d.find((line) => line.includes('gpu:0 → gpu:1')), { direction: 'D2D', bytes: floatBytes, cause: 'explicit', op: 'to', cell, line: 6 }, listing);
    assertTransfer(d2d.find((line) => line.includes(`line 8`)), { direction: 'D2D', bytes: floatBytes, cause: 'explicit', op: 'to', cell, line: 8 }, listing);
    assertTransfer(d2d.find((line) => line.includes(`line 10`)), { direction: 'D2D', bytes: boolBytes, cause: 'explicit', op: 'to', cell, line: 10 }, listing);
    // %transfers shows each move's legs as the ledger has them: exact bytes, and the same times.
    const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const legText = (leg: NonNullable<ReportTransfer['legs']>[number]): string => `${escape(`${leg.from} → ${leg.to} ${leg.bytes} B`)}(?: \\([^)]*\\))?`
      + escape(` in ${(leg.waitMs + leg.copyMs).toFixed(3)} ms (wait ${leg.waitMs.toFixed(3)}, copy ${leg.copyMs.toFixed(3)})`);
    for (const move of moves) {
      const expected = new RegExp(`^  ${escape(`${move.from} → ${move.to} (cell ${cell}, line ${move.line}): `)}${(move.legs ?? []).map(legText).join(', then ')}$`, 'm');
      assert.match(listing, expected, `%transfers shows the legs of the move at line ${move.line}`);
    }
  });

  test('a move off a GPU whose values a read kept on the host carries 0 bytes in its first leg', async () => {
    const exchange = await runOk(kernel(), [
      "const kept = await tf.tensor([1, 2, 3, 4, 5]).to('gpu:0');",
      'const values = await kept.data();',
      "await kept.to('gpu:1');",
      "[kept.device, (await kept.data()).join(',')]",
    ].join('\n'));
    const moves = gpuToGpu(theReport(exchange).meta.transfers);
    assert.equal(moves.length, 1, `one D2D move: ${JSON.stringify(moves)}`);
    assert.deepEqual(moves[0]?.legs?.map((leg) => [leg.from, leg.to, leg.bytes]), [['gpu:0', 'cpu', 0], ['cpu', 'gpu:1', 20]]);
    // Handing the host copy over to cpu's memory crosses no bus: thread's work, not copy (it took the move's GB/s down by a third).
    const [first, second] = moves[0]!.legs!;
    assert.equal(first!.copyMs, 0, `a leg that carried 0 bytes copied nothing: ${JSON.stringify(first)}`);
    // The hand-over is host busy on gpu:0. The time from the call to the move's start, where there
    // is any, is the target's (gpu:1's set-up on its first use, else host busy): never gpu:0's.
    assert.deepEqual(first!.waits.filter((wait) => wait.device === 'gpu:0').map((wait) => wait.cause), ['host-busy'], JSON.stringify(first));
    assert.ok(first!.waits.every((wait) => wait.device === 'gpu:0' || wait.device === 'gpu:1'), JSON.stringify(first));
    assert.ok(Math.abs(moves[0]!.copyMs - second!.copyMs) < 1e-6, `the move's copy is its second leg's: ${JSON.stringify(moves[0])}`);
  });

  test('an interrupted move between GPUs stops within a chunk: the tensor stays where the stop left it, whole, and what crossed is in the cell\'s ledger', async () => {
    await runOk(kernel(), HELPERS);
    // 64 MiB: 64 chunks of 1 MiB each way.
    const count = 16 * 2 ** 20;
    const bytes = count * 4;
    await runOk(kernel(), [
      `const expected = new Float32Array(bitPattern(${count}, 5).buffer);`,
      "const inFirstLeg = await tf.tensor(expected).to('gpu:0');",
      "const inSecondLeg = await tf.tensor(expected).to('gpu:0'); 0",
    ].join('\n'));
    // The cell says when the leg to interrupt is under way, then holds its thread so that the
    // interrupt is there when the move's next chunk lands (the move itself needs the event loop).
    // Not a loop: a cell's loops stop at the interrupt themselves, and the cell would end before the move's next chunk.
    const hold = 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 700); /* the interrupt arrives meanwhile */';
    const cases = [
      // A few ms in, a 64 MiB first leg is under way, not done.
      { name: 'inFirstLeg', stopsOn: "'gpu:0'", start: "const moving = inFirstLeg.to('gpu:1');\nawait new Promise((next) => setTimeout(next, 6));\nconsole.log('first leg');" },
      // Its first leg has landed once the tensor is on the host.
      { name: 'inSecondLeg', stopsOn: "'cpu'", start: "const moving = inSecondLeg.to('gpu:1');\nwhile (inSecondLeg.device !== 'cpu') await new Promise((next) => setImmediate(next));\nconsole.log('second leg');" },
    ];
    for (const { name, stopsOn, start } of cases) {
      const running = kernel().startExecute(`${start}\n${hold}\nawait moving;`, {}, { timeoutMs: 60_000 });
      // The cell's own line on stdout: the loop's first `.device` read, in the run that called the
      // move, is warned about on stderr before it.
      await running.iopubWhere('the leg on stdout', (message) => message.header.msg_type === 'stream' && (message.content as { name?: string }).name === 'stdout');
      await kernel().request('control', 'interrupt_request', {}, { timeoutMs: 10_000 });
      const interrupted = await running.done();
      const reply = executeReply(interrupted);
      assert.equal(reply.status === 'error' ? reply.ename : reply.status, 'Interrupted', describeOutcome(interrupted));
      const cell = countOf(interrupted);
      assert.equal(await valueOf(kernel(), `${name}.device`), stopsOn, `${name} stopped where the interrupt found it`);
      await sleep(1500);
      assert.equal(await valueOf(kernel(), `${name}.device`), stopsOn, `${name} stays there: the move does not go on`);
      assert.equal(await valueOf(kernel(), `sameBytes(await ${name}.data() as Float32Array, expected)`), 'true', `${name}'s values are intact`);
      // What crossed, as the interrupted cell's report has it, and %transfers all the same.
      const moves = reportsOf(interrupted).flatMap((shown) => readReport(shown).meta.transfers);
      const crossed = moves.map((move) => [move.direction, move.from, move.to]);
      const partial = moves.at(-1);
      if (stopsOn === "'gpu:0'") {
        assert.ok(crossed.length <= 1 && crossed.every((move) => move.join(' ') === 'D2H gpu:0 cpu'), `at most part of the first leg: ${JSON.stringify(moves)}`);
      } else {
        // Part of the second leg, or none of it: the leg clears its new buffer on gpu:1 before its
        // first chunk, and the interrupt may be seen there, before a byte crossed.
        const secondLeg = crossed.length === 2 ? [['H2D', 'cpu', 'gpu:1']] : [];
        assert.deepEqual(crossed, [['D2H', 'gpu:0', 'cpu'], ...secondLeg], `the first leg, and at most part of the second: ${JSON.stringify(moves)}`);
        assert.equal(moves[0]?.bytes, bytes, 'the first leg crossed whole');
      }
      if (partial !== undefined && partial.to !== 'cpu' || stopsOn === "'gpu:0'" && partial !== undefined) {
        assert.ok(partial.bytes > 0 && partial.bytes < bytes && partial.bytes % 2 ** 20 === 0, `the stopped leg carried whole chunks, not all: ${partial.bytes}`);
      }
      const listing = await printed(kernel(), '%transfers all');
      const listed = transferLines(listing).filter((line) => line.includes(`cell ${cell},`) || new RegExp(`\\(cell ${cell}\\b`).test(line));
      assert.equal(listed.length, moves.length, `%transfers all lists the interrupted cell's ${moves.length} moves:\n${listing}`);
      for (const move of moves) {
        assertTransfer(listed.find((line) => line.includes(move.direction)), { direction: move.direction as 'D2H' | 'H2D', bytes: move.bytes, cause: 'explicit', op: 'to', cell, line: move.line ?? 0 }, listing);
      }
      console.log(`${name}: stopped on ${stopsOn}; crossed ${moves.map((move) => `${move.direction} ${move.bytes} B in ${move.ms.toFixed(1)} ms`).join(', ') || 'nothing'}`);
    }
    // Moved again, each lands whole.
    assert.equal(await valueOf(kernel(), "await inFirstLeg.to('gpu:1'); await inSecondLeg.to('gpu:1'); [inFirstLeg.device, inSecondLeg.device, sameBytes(await inSecondLeg.data() as Float32Array, expected)]"), "[ 'gpu:1', 'gpu:1', true ]");
  });

  test('an op with inputs on gpu:0 and gpu:1 is refused under strict, naming the op and both GPUs; the kernel keeps its tensors', async () => {
    await runOk(kernel(), '%device_policy strict');
    await runOk(kernel(), "const a = await tf.tensor([1, 2, 3]).to('gpu:0');\nconst b = await tf.tensor([4, 5, 6]).to('gpu:1');");
    const error = await errorOf(kernel(), 'tf.add(a, b)');
    assert.match(error.evalue, /found at least two devices, gpu:0 and gpu:1/, error.evalue);
    assert.match(error.evalue, /Add: input 'b' is on gpu:1 but input 'a' is on gpu:0/, error.evalue);
    assert.match(error.evalue, /await x\.to\('gpu:0'\)/, 'the fix is given');
    assert.equal(await valueOf(kernel(), "(await tf.add(a, await b.to('gpu:0')).data()).join(',')"), "'5,7,9'", 'after the fix the op runs');
    await runOk(kernel(), '%device_policy auto');
  });

  // tfjs makes the 100 of m.div(100) on the current device: under %device gpu:0 an op on gpu:1
  // was refused as "two GPUs in one op", though a 0-d scalar is welcome on any device.
  test('a 0-d scalar made on the current GPU goes to the op\'s other GPU (m.div(100) on gpu:1 under %device gpu:0); live bytes stay true on both', async () => {
    await runOk(kernel(), "%device gpu:0\nconst onOne = await withDevice('gpu:1', () => tf.tensor([2, 4, 6, 8]).add(0));");
    const memoryBefore = await printed(kernel(), '%memory');
    const exchange = await runOk(kernel(), 'const divided = onOne.div(100);\n[divided.device, Array.from(await divided.data()).map((v) => Math.round(v * 100))]');
    assert.match(resultText(exchange) ?? '', /^\[ 'gpu:1', \[ 2, 4, 6, 8 \] \]$/, resultText(exchange));
    const moves = theReport(exchange).meta.transfers.filter((move) => move.direction === 'D2D');
    assert.deepEqual(moves.map((move) => [move.from, move.to, move.bytes, move.scalar]), [['gpu:0', 'gpu:1', 4, true]], JSON.stringify(moves));
    const memoryAfter = await printed(kernel(), '%memory');
    const gpu0 = (memory: string): string => memory.split('\n').find((line) => line.startsWith('gpu:0')) ?? '';
    assert.doesNotMatch(memoryAfter, /-\d/, `no device's bytes or buffers below zero:\n${memoryAfter}`);
    assert.equal(gpu0(memoryAfter), gpu0(memoryBefore), `gpu:0 holds what it held before (the scalar left its host arrays):\n${memoryBefore}\n${memoryAfter}`);
    await runOk(kernel(), '%device cpu');
  });

  test('a model trained on gpu:1 (model.to, withDevice) gives the same losses as on gpu:0, its weights and ops all on gpu:1', async () => {
    await runOk(kernel(), [
      'const features = tf.tensor2d(Array.from({ length: 32 }, (_, i) => [0, 1, 2, 3].map((k) => Math.sin(i * 1.7 + k * 2.3))));',
      'const labels = tf.tensor2d(Array.from({ length: 32 }, (_, i) => [Math.sin(i * 1.7) + Math.sin(i * 1.7 + 2.3) > 0 ? 1 : 0]));',
      'async function trainOn(device: string): Promise<{ losses: number[]; weights: string[] }> {',
      '  const model = tf.sequential();',
      "  model.add(tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));",
      "  model.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));",
      "  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'binaryCrossentropy' });",
      '  await model.to(device);',
      '  const xb = tf.clone(features); const yb = tf.clone(labels);',
      '  await xb.to(device); await yb.to(device);',
      '  const losses: number[] = [];',
      '  await withDevice(device, async () => { for (let step = 0; step < 5; step++) losses.push(await model.trainOnBatch(xb, yb) as number); });',
      '  return { losses, weights: model.weights.map((w) => w.read().device) };',
      '}',
    ].join('\n'));
    const parse = (stdout: string): { losses: number[]; weights: string[] } => JSON.parse(stdout.trim()) as { losses: number[]; weights: string[] };
    const onZero = parse(await printed(kernel(), "console.log(JSON.stringify(await trainOn('gpu:0')));"));
    const oneExchange = await runOk(kernel(), "console.log(JSON.stringify(await trainOn('gpu:1')));");
    const onOne = parse(streamText(oneExchange, 'stdout'));
    assert.equal(onOne.losses.length, 5);
    assert.ok(onOne.losses.every(Number.isFinite), `finite losses: ${onOne.losses.join(', ')}`);
    assert.deepEqual(onOne.losses, onZero.losses, 'the same program on two devices of one adapter gives the same losses');
    assert.deepEqual(new Set(onOne.weights), new Set(['gpu:1']), `every weight on gpu:1: ${onOne.weights.join(', ')}`);
    const report = theReport(oneExchange);
    assert.ok(deviceOf(report, 'gpu:1').ops > 0, 'training ran ops on gpu:1');
    assert.equal(report.meta.devices.find((use) => use.device === 'gpu:0')?.ops ?? 0, 0, 'and none on gpu:0');
  });

  test('the report draws a lane per device used: cpu, gpu:0 and gpu:1, the move between the GPUs as a band between their lanes', async () => {
    const exchange = await runOk(kernel(), [
      'const host = tf.ones([32, 32]);',
      "const p = await tf.ones([32, 32]).to('gpu:0');",
      'const product = p.matMul(p);',
      "await product.to('gpu:1');",
      'const doubled = product.add(product);',
      'host.add(host);',
    ].join('\n'));
    const reports = reportsOf(exchange);
    assert.equal(reports.length, 1);
    const report = readReport(reports[0]!);
    const svg = report.svg ?? '';
    const lanes = [...svg.matchAll(/<text x="4" y="([\d.]+)"[^>]*>([^<]+)<\/text>/g)].map((match) => ({ name: match[2]!, y: Number(match[1]) }));
    assert.deepEqual(lanes.map((lane) => lane.name).sort(), ['cpu', 'gpu:0', 'gpu:1'], `one lane per device: ${svg.slice(0, 600)}`);
    for (const name of ['cpu', 'gpu:0', 'gpu:1']) assert.ok(deviceOf(report, name).ops > 0, `${name} ran ops`);
    const band = /<g class="tsgpu-move"[^>]*><title>D2D [^<]*<\/title><rect[^>]*?y="([\d.]+)"[^>]*?height="([\d.]+)"/.exec(svg);
    assert.ok(band !== null, `the D2D move is drawn: ${svg}`);
    const top = Number(band[1]);
    const bottom = top + Number(band[2]);
    const laneY = (name: string): number => lanes.find((lane) => lane.name === name)!.y - 4;
    const [first, second] = [laneY('gpu:0'), laneY('gpu:1')].sort((m, n) => m - n);
    assert.ok(top >= first! && bottom <= second! && bottom - top > (second! - first!) / 2,
      `the band spans the gap between the gpu:0 and gpu:1 lanes (${first}..${second}), not another: ${top}..${bottom}`);
    assert.match(report.html, /gpu:1/, 'the HTML table names gpu:1');
  });
});

test('a bad TSGPU_GPU_DUPLICATE lists the GPUs as found, and %devices says what to write', async (t) => {
  const kernel = await freshKernel(t, { readyTimeoutMs: 60_000, env: { MESA_SHADER_CACHE_DIR: SHADER_CACHE_DIR, TSGPU_GPU_DUPLICATE: 'two' } });
  const table = await printed(kernel, '%devices');
  assert.ok(deviceLine(table, 'gpu:0') !== undefined, `gpu:0 is listed:\n${table}`);
  assert.doesNotMatch(table, /adapter opened again/, 'no adapter is opened twice');
  assert.match(table, /Note: TSGPU_GPU_DUPLICATE=two: give a whole number of devices from 1 to 16 \(e\.g\. TSGPU_GPU_DUPLICATE=2\)/);
});

// The first move onto a GPU not used before sets it up on the way: that is the move's wait, as an
// upload's first use is. A first move to gpu:1 showed 52-66 ms where the cell's own clock gave
// 80-127 ms (the set-up left out, and the move's start shown 45-60 ms after its call).
test('the first move onto a GPU not used yet counts that GPU\'s set-up as its wait, from the call', async (t) => {
  const kernel = await freshKernel(t, { readyTimeoutMs: 60_000, env: { MESA_SHADER_CACHE_DIR: SHADER_CACHE_DIR, TSGPU_GPU_DUPLICATE: '2', TSGPU_STAGING: STAGING } });
  await runOk(kernel, "%device gpu:0\nconst onFirst = tf.randomNormal([256, 1024]).add(0);\nawait onFirst.slice([0, 0], [1, 1]).data(); 0");
  const exchange = await runOk(kernel, "const calledAt = performance.now();\nawait onFirst.to('gpu:1');\nconsole.log(`wall ${performance.now() - calledAt}`);");
  const wall = Number(/wall ([\d.]+)/.exec(streamText(exchange, 'stdout'))![1]);
  const moves = gpuToGpu(theReport(exchange).meta.transfers);
  t.diagnostic(`the cell timed the move at ${wall.toFixed(1)} ms: ${JSON.stringify(moves)}`);
  assert.equal(moves.length, 1, JSON.stringify(theReport(exchange).meta.transfers));
  const move = moves[0]!;
  assert.ok(move.waits.some((wait) => wait.cause === 'gpu-setup' && wait.device === 'gpu:1'), `gpu:1's set-up is a wait of the move: ${JSON.stringify(move.waits)}`);
  assert.ok(move.ms >= 0.9 * wall - 3 && move.ms <= wall + 1, `the move shows ${move.ms.toFixed(1)} ms; the cell's own clock gave ${wall.toFixed(1)} ms`);
  assert.ok(Math.abs(move.waitMs - move.legs!.reduce((sum, leg) => sum + leg.waitMs, 0)) < 1e-6, 'the move\'s wait is its legs\' waits');
});
