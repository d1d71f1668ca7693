// The test client's own framing: if it were wrong, every protocol test would blame the kernel.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { decodeFrames, DELIMITER, encodeFrames, makeSigner, OutgoingMessage } from '../support/wire-sign';

const msg: OutgoingMessage = {
  header: { msg_id: 'id-1', msg_type: 'kernel_info_request', session: 's', username: 'u', date: '', version: '5.3' },
  parent_header: {},
  metadata: {},
  content: { text: 'é😀' },
};

test('frames are delimiter, hex hmac-sha256 over the four JSON frames, then the frames', () => {
  const frames = encodeFrames(msg, makeSigner('hmac-sha256', 'secret'));
  assert.equal(frames[0]?.toString(), DELIMITER);
  const hmac = createHmac('sha256', 'secret');
  for (const part of frames.slice(2)) hmac.update(part);
  assert.equal(frames[1]?.toString(), hmac.digest('hex'));
  assert.deepEqual(JSON.parse(frames[5]?.toString() ?? ''), { text: 'é😀' });
});

test('decoding accepts its own frames after routing identities and refuses a changed signature', () => {
  const sign = makeSigner('hmac-sha256', 'secret');
  const frames = [Buffer.from('topic'), ...encodeFrames(msg, sign)];
  const decoded = decodeFrames(frames, sign);
  assert.ok(decoded.ok);
  assert.deepEqual(decoded.message.content, msg.content);
  const forged = encodeFrames(msg, sign, '0'.repeat(64));
  assert.deepEqual(decodeFrames(forged, sign), { ok: false, reason: `bad signature "${'0'.repeat(64)}"` });
});

test('an empty key signs with the empty string and verifies only that', () => {
  const sign = makeSigner('hmac-sha256', '');
  const frames = encodeFrames(msg, sign);
  assert.equal(frames[1]?.length, 0);
  assert.ok(decodeFrames(frames, sign).ok);
  assert.equal(decodeFrames(encodeFrames(msg, sign, 'abc'), sign).ok, false);
});

test('missing delimiter, missing frames and bad JSON are reported, not thrown', () => {
  const sign = makeSigner('hmac-sha256', 'k');
  assert.match(String(Object(decodeFrames([Buffer.from('x')], sign)).reason), /delimiter/);
  assert.match(String(Object(decodeFrames([Buffer.from(DELIMITER), Buffer.from('sig')], sign)).reason), /frames/);
  const parts = ['{', '{}', '{}', '{}'].map((p) => Buffer.from(p));
  const badJson = [Buffer.from(DELIMITER), Buffer.from(sign(parts)), ...parts];
  assert.match(String(Object(decodeFrames(badJson, sign)).reason), /invalid JSON/);
});

test('unknown signature schemes are refused', () => {
  assert.throws(() => makeSigner('rot13', 'k'), /unsupported/);
});
