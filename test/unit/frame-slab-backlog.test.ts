// The two halves of issue 14's fix for memory after a big output: big outgoing frames are cut from
// mapped slabs (frame-slab.ts), and the main thread waits while the protocol worker is behind on
// stream chunks (output-backlog.ts). test/reliability/big-output measures the effect on RSS.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { BacklogReceiver, BacklogSender, createOutputBacklog, MAX_UNPUBLISHED } from '../../kernel/interpreter/output-backlog';
import { FrameSlabs, SLAB_FRAME_MIN } from '../../kernel/protocol/frame-slab';
import { makeHeader, newSession } from '../../kernel/protocol/messages';
import { ReplayGuard } from '../../kernel/protocol/replay';
import { Signer } from '../../kernel/protocol/sign';
import { decodeMessage, encodeMessage } from '../../kernel/protocol/wire';

test('small frames are plain buffers; big ones are slices of one slab, byte for byte, UTF-8 included', () => {
  const slabs = new FrameSlabs();
  const small = slabs.frame('{"a":1}');
  assert.equal(small.toString(), '{"a":1}');
  const texts = [`"${'é'.repeat(SLAB_FRAME_MIN)}"`, `"${'x'.repeat(SLAB_FRAME_MIN + 3)}"`, `"${'😀'.repeat(SLAB_FRAME_MIN)}"`];
  const frames = texts.map((text) => slabs.frame(text));
  frames.forEach((frame, i) => assert.equal(frame.toString('utf8'), texts[i]));
  assert.equal(frames[0]!.buffer, frames[1]!.buffer, 'one slab');
  assert.ok(frames[0]!.buffer.byteLength > 32 * 1024 * 1024, 'a slab is bigger than glibc\'s largest mmap threshold');
  assert.ok(frames[1]!.byteOffset >= frames[0]!.byteOffset + frames[0]!.length, 'slices do not overlap');
  assert.notEqual(small.buffer.byteLength, frames[0]!.buffer.byteLength);
});

test('a message with a big content frame encodes from slabs and decodes as sent', () => {
  const signer = new Signer('key');
  const text = 'y'.repeat(200_000) + '\n';
  const frames = encodeMessage({
    ids: [], header: makeHeader(newSession(), 'stream'), parent_header: {}, metadata: {}, content: { name: 'stdout', text },
  }, signer, new FrameSlabs());
  const decoded = decodeMessage(frames, signer, new ReplayGuard());
  assert.ok(decoded.ok);
  assert.equal(decoded.message.content['text'], text);
});

test('a full slab is replaced by a new one', () => {
  const slabs = new FrameSlabs();
  const chunk = `"${'z'.repeat(4 * 1024 * 1024)}"`;
  const frames = Array.from({ length: 9 }, () => slabs.frame(chunk));
  assert.notEqual(frames[0]!.buffer, frames[8]!.buffer);
  for (const frame of frames) assert.equal(frame.length, chunk.length);
});

test('the main thread posts up to MAX_UNPUBLISHED chunks, then waits until the worker takes one', async () => {
  const buffer = createOutputBacklog();
  const sender = new BacklogSender(buffer);
  for (let i = 0; i < MAX_UNPUBLISHED; i++) {
    sender.beforePost(); // no wait
    sender.posted();
  }
  // A worker takes one chunk 300 ms from now; the next post waits for it.
  const worker = new Worker(`
    const { workerData } = require('node:worker_threads');
    setTimeout(() => { const s = new Int32Array(workerData); Atomics.add(s, 1, 1); Atomics.notify(s, 1); }, 300);
  `, { eval: true, workerData: buffer });
  const started = performance.now();
  sender.beforePost();
  const waited = performance.now() - started;
  await worker.terminate();
  assert.ok(waited >= 250 && waited < 5000, `waited ${waited.toFixed(0)} ms`);
  // The receiver's count is the one the sender reads.
  const receiver = new BacklogReceiver(buffer);
  for (let i = 0; i < MAX_UNPUBLISHED; i++) receiver.taken();
  const again = performance.now();
  sender.beforePost();
  assert.ok(performance.now() - again < 50);
});
