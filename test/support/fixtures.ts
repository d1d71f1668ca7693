// Kernel lifetimes for node:test files: one shared kernel per file, or a fresh one per test
// (for tests that stop or kill it). Both always kill the process and check that every message the
// kernel sent was spec-valid.
import assert from 'node:assert/strict';
import { after, before, TestContext } from 'node:test';
import { KernelClient, startKernel, StartOptions } from './kernel-client';

async function closeAndCheck(kernel: KernelClient): Promise<void> {
  await kernel.close();
  assert.deepEqual(kernel.problems, [], 'the kernel sent invalid or badly signed messages');
}

/** Starts one kernel before the file's tests and kills it after them. */
export function useKernel(options: StartOptions = {}): () => KernelClient {
  let kernel: KernelClient | undefined;
  before(async () => {
    kernel = await startKernel(options);
  });
  after(async () => {
    if (kernel !== undefined) await closeAndCheck(kernel);
  });
  return () => {
    assert.ok(kernel !== undefined, 'the shared kernel did not start');
    return kernel;
  };
}

/** A kernel of this test's own, killed when the test ends. */
export async function freshKernel(t: TestContext, options: StartOptions = {}): Promise<KernelClient> {
  const kernel = await startKernel(options);
  t.after(() => closeAndCheck(kernel));
  return kernel;
}
