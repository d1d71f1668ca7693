// Which devices a notebook can name: cpu and gpu:N (lavapipe, a software Vulkan GPU, is gpu:0 in
// CI), the aliases PyTorch users type (gpu, cuda, cuda:N, auto), and what a wrong name says.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  deviceLine, errorOf, linesOf, printed, useDeviceKernel, valueOf,
} from '../support/devices';

/** The evalue part that lists the devices there are. */
const LISTS_DEVICES = /the devices here are cpu, gpu:0\b/;

describe('device registry', () => {
  const kernel = useDeviceKernel();

  test('`%device` alone says the current device is cpu in a new kernel', async () => {
    assert.match(await printed(kernel(), '%device'), /\bcpu\b/);
  });

  test('`%devices` lists cpu and gpu:0, and a software GPU is marked "(software)"', async () => {
    const table = await printed(kernel(), '%devices');
    assert.ok(deviceLine(table, 'cpu') !== undefined, `no cpu row in %devices:\n${table}`);
    // Not a skip: CI installs lavapipe (mesa-vulkan-drivers), so a missing gpu:0 is a failure to find it.
    const gpu = deviceLine(table, 'gpu:0');
    assert.ok(gpu !== undefined, `no gpu:0 in %devices: a GPU adapter must be found (lavapipe is installed):\n${table}`);
    const gpuLines = linesOf(table).filter((line) => /^[\s*>]*gpu:\d+\b/.test(line));
    assert.ok(gpuLines.some((line) => line.includes('(software)')), `no GPU marked "(software)":\n${table}`);
  });

  test("bestDevice() is 'cpu' when the only GPUs are software ones (and gpu:0 where a hardware GPU is)", async () => {
    const table = await printed(kernel(), '%devices');
    const gpuLines = linesOf(table).filter((line) => /^[\s*>]*gpu:\d+\b/.test(line));
    assert.ok(gpuLines.length > 0, `no GPU in %devices:\n${table}`);
    const softwareOnly = gpuLines.every((line) => line.includes('(software)'));
    assert.equal(await valueOf(kernel(), 'bestDevice()'), softwareOnly ? "'cpu'" : "'gpu:0'", table);
  });

  test("device() gives canonical names: 'gpu' and 'cuda:0' are 'gpu:0', 'cpu' is 'cpu'", async () => {
    assert.equal(await valueOf(kernel(), "[device('gpu'), device('cuda:0'), device('gpu:0'), device('cpu')]"),
      "[ 'gpu:0', 'gpu:0', 'gpu:0', 'cpu' ]");
  });

  test("device('cuda') is 'gpu:0'", async () => {
    assert.equal(await valueOf(kernel(), "device('cuda')"), "'gpu:0'");
  });

  test("device('auto') is bestDevice()", async () => {
    assert.equal(await valueOf(kernel(), "device('auto') === bestDevice()"), 'true');
  });

  test('`%device cuda` chooses gpu:0 and says it is a software GPU', async () => {
    try {
      assert.match(await printed(kernel(), '%device cuda'), /^device gpu:0 \(software GPU/m);
      assert.match(await printed(kernel(), '%device'), /\bgpu:0\b/);
    } finally {
      await printed(kernel(), '%device cpu');
    }
  });

  test('`%device gpu:7` is a DeviceError that lists the devices there are', async () => {
    const error = await errorOf(kernel(), '%device gpu:7');
    assert.equal(error.ename, 'DeviceError');
    assert.match(error.evalue, LISTS_DEVICES);
  });

  test("device('tpu') is a DeviceError that lists the devices there are", async () => {
    const error = await errorOf(kernel(), "device('tpu')");
    assert.equal(error.ename, 'DeviceError');
    assert.match(error.evalue, LISTS_DEVICES);
  });

  test("moving a tensor to 'gpu:7' is a DeviceError that lists the devices there are", async () => {
    const error = await errorOf(kernel(), "await tf.ones([2]).to('gpu:7')");
    assert.equal(error.ename, 'DeviceError');
    assert.match(error.evalue, LISTS_DEVICES);
  });

  test('an unknown device leaves the current device as it was', async () => {
    await errorOf(kernel(), '%device tpu');
    assert.match(await printed(kernel(), '%device'), /\bcpu\b/);
    assert.equal(await valueOf(kernel(), 'tf.ones([2]).device'), "'cpu'");
  });
});
