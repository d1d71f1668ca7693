// The transfer engine through a real kernel on gpu:0: every size from 4 B to 512 MiB and every
// dtype a GPU holds comes back bit-identical both ways (through `await x.cpu()` and through
// `await x.data()`), sizes that do not divide into chunks included; moves running at once from
// several cells all land, each recorded once with its exact bytes; an op's implicit move of a big
// host tensor goes the same way; staging memory stays bounded and %memory shows it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { iopubOf, resultText } from '../support/exchange';
import { errorOf, parseTextTable, printed, runOk, transferRows, useDeviceKernel, valueOf } from '../support/devices';
import { BYTE_HELPERS } from '../support/gpu-cell';

const MiB = 2 ** 20;

/** Cell code: BYTE_HELPERS and a byte-exact round trip to gpu:0. */
const HELPERS = `${BYTE_HELPERS}
function hostData(dtype: 'float32' | 'int32' | 'bool', count: number, seed: number): Float32Array | Int32Array | Uint8Array {
  const bits = bitPattern(count, seed);
  return dtype === 'float32' ? new Float32Array(bits.buffer) : dtype === 'int32' ? new Int32Array(bits.buffer) : Uint8Array.from(bits, (b) => b & 1);
}
/** 'exact', or what went wrong: to the GPU and back with cpu(), and to the GPU and read with data(). */
async function roundTrip(dtype: 'float32' | 'int32' | 'bool', count: number, seed: number): Promise<string> {
  const expected = hostData(dtype, count, seed);
  const viaCpu = tf.tensor(expected, [count], dtype);
  await viaCpu.to('gpu:0');
  if (viaCpu.device !== 'gpu:0') return 'to() left it on ' + viaCpu.device;
  await viaCpu.cpu();
  const back = viaCpu.dataSync();
  viaCpu.dispose();
  const viaData = tf.tensor(expected, [count], dtype);
  await viaData.to('gpu:0');
  const read = await viaData.data();
  viaData.dispose();
  if (!sameBytes(back as ArrayBufferView, expected)) return 'cpu() changed the bytes';
  if (!sameBytes(read as ArrayBufferView, expected)) return 'data() changed the bytes';
  return 'exact';
}
`;

describe('transfer engine on gpu:0', () => {
  const kernel = useDeviceKernel();

  test('float32 round trips are bit-identical from 4 B to 32 MiB + 4 B, chunk-sized and odd sizes included', async () => {
    await runOk(kernel(), HELPERS);
    const bytes = [4, 12, 64 * 1024 - 4, 64 * 1024, MiB + 4, 8 * MiB, 8 * MiB + 4, 32 * MiB + 4];
    const results = await valueOf(kernel(), `const sizes = ${JSON.stringify(bytes)};\n`
      + 'const outcomes: string[] = [];\nfor (const size of sizes) outcomes.push(`${size}: ${await roundTrip(\'float32\', size / 4, size)}`);\noutcomes.join(\'; \')');
    assert.equal(results, `'${bytes.map((size) => `${size}: exact`).join('; ')}'`);
  });

  test('int32 and bool round trips are bit-identical, small, chunk-crossing and odd (bool is 1 byte on the host, 4 on the GPU)', async () => {
    const counts = [1, 16_383, 16_384, 2 * MiB + 1, 8 * MiB + 3];
    const results = await valueOf(kernel(), `const counts = ${JSON.stringify(counts)};\nconst typed: string[] = [];\n`
      + "for (const dtype of ['int32', 'bool'] as const) for (const count of counts) typed.push(`${dtype} ${count}: ${await roundTrip(dtype, count, count + 7)}`);\n"
      + "typed.join('; ')");
    const expected = ['int32', 'bool'].flatMap((dtype) => counts.map((count) => `${dtype} ${count}: exact`)).join('; ');
    assert.equal(results, `'${expected}'`);
  });

  test('512 MiB goes to gpu:0 and back bit-identical, recorded once each way with its exact bytes; a bar shows only for a move over a second', async () => {
    await runOk(kernel(), '%transfers reset');
    const exchange = await runOk(kernel(), [
      "const huge = tf.tensor(hostData('float32', 128 * 2 ** 20, 512), [128 * 2 ** 20]);",
      'let started = performance.now();',
      "await huge.to('gpu:0');",
      'const upMs = performance.now() - started;',
      'started = performance.now();',
      'await huge.cpu();',
      'const downMs = performance.now() - started;',
      "const hugeSame = sameBytes(huge.dataSync() as Float32Array, hostData('float32', 128 * 2 ** 20, 512));",
      'huge.dispose();',
      '[hugeSame, Math.round(upMs), Math.round(downMs)]',
    ].join('\n'));
    const shown = /\[ (\w+), (\d+), (\d+) \]/.exec(resultText(exchange) ?? '');
    assert.ok(shown, `unexpected result: ${resultText(exchange)}`);
    assert.equal(shown[1], 'true', 'the 512 MiB tensor came back changed');
    const [upMs, downMs] = [Number(shown[2]), Number(shown[3])];
    const bars = iopubOf(exchange, 'display_data').filter((message) => String(message.data['text/plain'] ?? '').includes('moving'));
    const finals = iopubOf(exchange, 'update_display_data').filter((message) => String(message.data['text/plain'] ?? '').startsWith('moved'));
    // The bar appears a second into a move: a move well over that shows one, one well under none.
    const longMoves = [upMs, downMs].filter((ms) => ms > 1500).length;
    const shortMoves = [upMs, downMs].filter((ms) => ms < 800).length;
    assert.ok(bars.length >= longMoves && bars.length <= 2 - shortMoves, `moves of ${upMs} and ${downMs} ms showed ${bars.length} bars`);
    assert.equal(finals.length, bars.length, 'each bar ends with what was moved');
    const rows = transferRows(await printed(kernel(), '%transfers'));
    const big = rows.filter((row) => row.text.includes(String(512 * MiB)) || row.text.includes((512 * MiB).toLocaleString('en-US')));
    assert.equal(big.length, 2, `one H2D and one D2H line of exactly ${512 * MiB} B:\n${rows.map((row) => row.text).join('\n')}`);
    assert.ok(big.every((row) => row.moves === 1), 'each 512 MiB move is recorded once, not once per chunk');
  });

  test('moves started in one cell and awaited in another all land, a tensor moved twice at once moves once, each recorded once', async () => {
    await runOk(kernel(), [
      '%transfers reset',
      "const moverA = tf.tensor(hostData('float32', 6 * 2 ** 20, 1), [6 * 2 ** 20]);",
      "const moverB = tf.tensor(hostData('int32', 5 * 2 ** 20 + 1, 2), [5 * 2 ** 20 + 1], 'int32');",
      "const moverC = tf.tensor(hostData('bool', 3 * 2 ** 20 + 5, 3), [3 * 2 ** 20 + 5], 'bool');",
      "globalThis.startedEarlier = [moverA.to('gpu:0'), moverB.to('gpu:0')];",
    ].join('\n'));
    const value = await valueOf(kernel(), [
      "const startedNow = [moverC.to('gpu:0'), moverC.to('gpu:0'), moverA.cpu(), moverA.cpu()];",
      'await Promise.all([...(globalThis as any).startedEarlier, ...startedNow]);',
      'const places = [moverA.device, moverB.device, moverC.device];',
      "const intact = sameBytes(moverA.dataSync() as Float32Array, hostData('float32', 6 * 2 ** 20, 1))",
      "  && sameBytes(await moverB.data() as Int32Array, hostData('int32', 5 * 2 ** 20 + 1, 2))",
      "  && sameBytes(await moverC.data() as Uint8Array, hostData('bool', 3 * 2 ** 20 + 5, 3));",
      '[places.join(), intact]',
    ].join('\n'));
    assert.equal(value, "[ 'cpu,gpu:0,gpu:0', true ]");
    const rows = transferRows(await printed(kernel(), '%transfers all'));
    const moves = rows.filter((row) => /\b(H2D|D2H)\b/.test(row.text) && !/\b(data)\b/.test(row.text));
    const total = moves.reduce((sum, row) => sum + row.moves, 0);
    // A: H2D then D2H (its second cpu() finds it there); B and C: one H2D each (C's second to() finds it there).
    assert.equal(total, 4, `four moves expected:\n${rows.map((row) => row.text).join('\n')}`);
  });

  test("a big host input to a GPU op moves implicitly through the engine, exactly, recorded as implicit with its bytes", async () => {
    await runOk(kernel(), '%transfers reset');
    const value = await valueOf(kernel(), [
      "const onGpu = await tf.ones([3 * 2 ** 20]).to('gpu:0');",
      "const hostSide = tf.tensor(Int32Array.from(bitPattern(3 * 2 ** 20, 9), (b) => b % 1000), [3 * 2 ** 20], 'int32').toFloat();",
      'const summed = onGpu.add(hostSide);',
      'const sums = await summed.data();',
      'const expectedSums = Float32Array.from(bitPattern(3 * 2 ** 20, 9), (b) => (b % 1000) + 1);',
      '[summed.device, sameBytes(sums as Float32Array, expectedSums)]',
    ].join('\n'));
    assert.equal(value, "[ 'gpu:0', true ]");
    const rows = transferRows(await printed(kernel(), '%transfers'));
    const implicit = rows.filter((row) => /\bimplicit\b/.test(row.text) && /\bH2D\b/.test(row.text));
    assert.equal(implicit.length, 1, `one implicit H2D line:\n${rows.map((row) => row.text).join('\n')}`);
    assert.match(implicit[0]!.text, new RegExp(`(${12 * MiB}|${(12 * MiB).toLocaleString('en-US')}) ?B`));
  });

  test('%memory shows the staging buffers moves use, bounded (2 directions × 4 × 8 MiB)', async () => {
    const table = parseTextTable(await printed(kernel(), '%memory'));
    assert.ok(table, 'a %memory table');
    assert.ok(table.header.includes('staging'), `a staging column: ${table.header.join(' | ')}`);
    const gpu = table.rows.find((row) => row.cells[0] === 'gpu:0');
    assert.ok(gpu, `a gpu:0 row: ${JSON.stringify(table.rows)}`);
    const staging = gpu.cells[table.header.indexOf('staging')] ?? '';
    const mib = /([\d.]+) MiB/.exec(staging);
    assert.ok(mib && Number(mib[1]) > 0 && Number(mib[1]) <= 64, `staging on gpu:0 is ${JSON.stringify(staging)}: expected 0 < staging <= 64 MiB`);
  });

  test('a string or complex64 tensor asked to move says why not and what to do; an empty tensor moves', async () => {
    const text = await errorOf(kernel(), "await tf.tensor(['a', 'b']).to('gpu:0')");
    assert.match(`${text.ename}: ${text.evalue}`, /DeviceError: .*string tensor stays on the host.*numbers/);
    const complex = await errorOf(kernel(), "await tf.complex([1, 2], [3, 4]).to('gpu:0')");
    assert.match(`${complex.ename}: ${complex.evalue}`, /DeviceError: .*complex64.*tf\.complex\(await tf\.real\(x\)\.to\('gpu:0'\)/);
    assert.equal(await valueOf(kernel(), "const nothing = tf.zeros([0, 3]);\nawait nothing.to('gpu:0');\nconst there = nothing.device;\nawait nothing.cpu();\n[there, nothing.device, nothing.shape.join('x')]"),
      "[ 'gpu:0', 'cpu', '0x3' ]");
  });

  test('a tensor disposed while it moves gives a clear error; the kernel, its names and gpu:0 keep working', async () => {
    await runOk(kernel(), "const keeper = await tf.tensor([1, 2, 3]).to('gpu:0');");
    const error = await errorOf(kernel(), "const victim = tf.tensor(hostData('float32', 4 * 2 ** 20, 4), [4 * 2 ** 20]);\nconst moving = victim.to('gpu:0');\nvictim.dispose();\nawait moving;");
    assert.match(`${error.ename}: ${error.evalue}`, /disposed/);
    assert.equal(await valueOf(kernel(), 'Array.from(await keeper.add(1).data())'), '[ 2, 3, 4 ]');
  });
});
