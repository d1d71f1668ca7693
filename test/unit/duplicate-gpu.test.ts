// TSGPU_GPU_DUPLICATE: how many devices the first GPU is opened as, where its copies go among the
// GPUs found, and what a bad value says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { duplicateCount, withDuplicates } from '../../kernel/device/duplicate-gpu';
import type { GpuCandidate } from '../../kernel/device/webgpu';

function candidate(adapterName: string, software: boolean): GpuCandidate {
  return {
    backend: 'vulkan', adapterName, software,
    info: { vendor: '', architecture: software ? 'software' : '', device: adapterName, description: adapterName },
    open: () => Promise.reject(new Error('not opened in a unit test')),
  };
}

test('unset or empty means one device per adapter; 1..16 are taken as they are', () => {
  assert.equal(duplicateCount(undefined), 1);
  assert.equal(duplicateCount(''), 1);
  assert.equal(duplicateCount('2'), 2);
  assert.equal(duplicateCount('16'), 16);
});

test('a value that is not a whole number from 1 to 16 is refused, saying what to write', () => {
  for (const bad of ['0', '-1', '2.5', 'two', '17']) {
    assert.throws(() => duplicateCount(bad), /TSGPU_GPU_DUPLICATE=.*give a whole number of devices from 1 to 16 \(e\.g\. TSGPU_GPU_DUPLICATE=2\)/, bad);
  }
});

test('the first GPU\'s copies follow it, the other GPUs come after them, and each copy opens the same adapter', () => {
  const nvidia = candidate('NVIDIA H200', false);
  const lavapipe = candidate('llvmpipe', true);
  const gpus = withDuplicates([nvidia, lavapipe], 3);
  assert.deepEqual(gpus.map((gpu) => [gpu.adapterName, gpu.duplicateOf]), [
    ['NVIDIA H200', undefined], ['NVIDIA H200', 0], ['NVIDIA H200', 0], ['llvmpipe', undefined],
  ]);
  assert.ok(gpus.slice(0, 3).every((gpu) => gpu.open === nvidia.open), 'each copy opens the first adapter again (a Dawn device of its own)');
  assert.deepEqual(withDuplicates([nvidia, lavapipe], 1), [nvidia, lavapipe]);
  assert.deepEqual(withDuplicates([], 2), [], 'no GPU: nothing to open twice');
});
