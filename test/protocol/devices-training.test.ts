// Training through the kernel gives raw tfjs's numbers: the seed's MLP (784-256-10, batch 128,
// Adam) trained 100 steps with trainOnBatch and with model.trainStep (no per-step readback, the
// kernel's fused Adam update) ends at the loss raw tfjs-layers reaches in a plain Node process,
// on cpu and gpu:0. And the report of a training step stays exact: its op count is the count
// tf.profile takes of the same step, and its transfers are the loss reads the test expects.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { TRAIN_SETUP } from '../../bench/lib/train-program';
import { runOk, useDeviceKernel, valueOf } from '../support/devices';
import { theReport } from '../support/report';

const STEPS = 100;
const TRAIN_BENCH = path.join(__dirname, '..', '..', 'bench', 'train.js');

/** The loss raw tfjs-layers reaches after `steps` trainOnBatch steps, in a process of its own. */
function rawLoss(device: string, steps: number): number {
  const out = execFileSync(process.execPath, [TRAIN_BENCH, '--child', 'mlp', device, '--steps', String(steps), '--warmup', '1', '--breakdown-steps', '1'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  return (JSON.parse(out.trim().split('\n').at(-1)!) as { loss: number }).loss;
}

function assertSameLoss(ours: number, raw: number, what: string): void {
  const relative = Math.abs(ours - raw) / Math.abs(raw);
  assert.ok(relative <= 1e-5, `${what}: loss ${ours}, raw tfjs ${raw} (relative difference ${relative.toExponential(2)}, allowed 1e-5)`);
}

/** The loss after STEPS steps of model.trainStep, read once at the end. */
const TRAIN_STEPS = (name: string) => `const ${name} = benchModel('mlp');
let ${name}Loss: tf.Scalar | null = null;
for (let step = 0; step < ${STEPS}; step++) {
  const batch = batches[step % batches.length]!;
  ${name}Loss?.dispose();
  ${name}Loss = ${name}.trainStep(batch.x, batch.y);
}
await ${name}Loss!.item()`;

/**
 * tf.profile lists kernels and also scopes that are no kernel (a customGrad op's forward pass,
 * whose kernels it lists too): counted here are the entries some backend has a kernel for.
 */
const KERNELS_OF_PROFILE = `function kernelsIn(profile: { kernels: { name: string }[] }): number {
  const backends = Object.keys((tf.engine() as unknown as { registry: Record<string, unknown> }).registry);
  return profile.kernels.filter((entry) => backends.some((backend) => tf.getKernel(entry.name, backend) !== undefined)).length;
}`;

for (const device of ['cpu', 'gpu:0']) {
  describe(`training the seed's MLP on ${device} through the kernel`, () => {
    const kernel = useDeviceKernel();
    let raw = NaN;

    before(async () => {
      raw = rawLoss(device, STEPS);
      await runOk(kernel(), `%device ${device}`);
      await runOk(kernel(), TRAIN_SETUP);
      await runOk(kernel(), "const batches = benchBatches('mlp', 128);\nbatches[0]!.x.device");
      await runOk(kernel(), KERNELS_OF_PROFILE);
    });

    test(`trainOnBatch: the loss after ${STEPS} steps equals raw tfjs's (relative 1e-5)`, async () => {
      const text = await valueOf(kernel(), `const viaTrainOnBatch = benchModel('mlp');\n(await benchTrainOnBatch(viaTrainOnBatch, batches, ${STEPS}, 1)).loss`);
      assertSameLoss(Number(text), raw, 'trainOnBatch');
    });

    test(`model.trainStep: the loss after ${STEPS} steps equals raw tfjs's (relative 1e-5)`, async () => {
      assertSameLoss(Number(await valueOf(kernel(), TRAIN_STEPS('viaTrainStep'))), raw, 'model.trainStep');
    });

    test('a tensor sharing a weight\'s buffer (tf.clone) keeps its values through a training step', async () => {
      // The fused update writes buffers in place only where the variable alone holds them.
      const code = `const heldWeight = tf.clone(viaTrainStep.weights[0]!.read());
const heldBefore = Array.from(await heldWeight.data());
viaTrainStep.trainStep(batches[2]!.x, batches[2]!.y).dispose();
const heldAfter = Array.from(await heldWeight.data());
const weightNow = Array.from(await viaTrainStep.weights[0]!.read().data());
[heldAfter.every((v, i) => v === heldBefore[i]), weightNow.some((v, i) => v !== heldBefore[i])]`;
      assert.equal(await valueOf(kernel(), code), '[ true, true ]', 'the clone keeps its values, and the weight itself trained');
    });

    test("a trainOnBatch step's report counts the ops tf.profile counts, and one 4-byte loss read", async () => {
      const exchange = await runOk(kernel(), 'const profiled = await tf.profile(() => viaTrainOnBatch.trainOnBatch(batches[0]!.x, batches[0]!.y));\nkernelsIn(profiled)');
      const kernels = Number((exchange.iopub.find((m) => m.header.msg_type === 'execute_result')!.content as { data: Record<string, string> }).data['text/plain']);
      const report = theReport(exchange);
      const ops = report.meta.devices.reduce((sum, use) => sum + use.ops, 0);
      assert.ok(kernels > 50, `tf.profile saw ${kernels} kernels in a training step`);
      assert.equal(ops, kernels, `the report counts ${ops} ops, tf.profile ${kernels}: ${JSON.stringify(report.meta.devices)}`);
      assert.equal(report.meta.devices.find((use) => use.device === device)?.ops, kernels, `every op ran on ${device}`);
      // On a GPU the loss comes back (4 bytes); on cpu it is read where it is, no transfer.
      const expected = device === 'cpu' ? [] : [{ direction: 'D2H', bytes: 4 }];
      assert.deepEqual(timedMoves(report), expected, report.text);
      assertOnlyFirstUseUploads(report);
    });

    test('5 model.trainStep steps and one read: the report counts 5 × the ops of one profiled step, and only the one read moves', async () => {
      const one = Number(await valueOf(kernel(), 'const profiledStep = await tf.profile(() => viaTrainStep.trainStep(batches[1]!.x, batches[1]!.y));\n'
        + '(profiledStep.result as tf.Tensor).dispose();\nkernelsIn(profiledStep)'));
      const exchange = await runOk(kernel(), `let last: tf.Scalar | null = null;
for (let step = 0; step < 5; step++) { last?.dispose(); last = viaTrainStep.trainStep(batches[step % 4]!.x, batches[step % 4]!.y); }
await last!.item()`);
      const report = theReport(exchange);
      const ops = report.meta.devices.reduce((sum, use) => sum + use.ops, 0);
      assert.equal(ops, 5 * one, `the report counts ${ops} ops for 5 steps of ${one}: ${JSON.stringify(report.meta.devices)}`);
      const expected = device === 'cpu' ? [] : [{ direction: 'D2H', bytes: 4 }];
      assert.deepEqual(timedMoves(report), expected, report.text);
      assertOnlyFirstUseUploads(report);
    });
  });
}

/** The moves the kernel timed: a step's readbacks and explicit moves. */
function timedMoves(report: ReturnType<typeof theReport>): { direction: string; bytes: number }[] {
  return report.meta.transfers.filter((move) => move.untimed !== true).map(({ direction, bytes }) => ({ direction, bytes }));
}

/**
 * The other moves are host values tfjs uploads at first use (the batches made in an earlier cell,
 * tfjs-layers' own constants): host→GPU only, whole float32 elements, none made by the kernel.
 */
function assertOnlyFirstUseUploads(report: ReturnType<typeof theReport>): void {
  const uploads = report.meta.transfers.filter((move) => move.untimed === true);
  assert.ok(uploads.every((move) => move.direction === 'H2D' && move.bytes % 4 === 0 && move.via.by !== 'kernel'), JSON.stringify(uploads.slice(0, 3)));
}
