// Frame encoding and the decoding guard: whatever arrives, decode returns a message or a reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeHeader, newSession, type Outgoing } from '../../kernel/protocol/messages';
import { ReplayGuard } from '../../kernel/protocol/replay';
import { Signer } from '../../kernel/protocol/sign';
import { DELIMITER, decodeMessage, encodeMessage } from '../../kernel/protocol/wire';

const signer = new Signer('key');
const session = newSession();

function outgoing(content: Outgoing['content'] = { code: '1+1' }): Outgoing {
  return { ids: [Buffer.from('client-id')], header: makeHeader(session, 'execute_request'), parent_header: {}, metadata: {}, content };
}

test('a message survives encode then decode, routing ids and buffers included', () => {
  const message = { ...outgoing(), buffers: [Buffer.from([0, 1, 2, 255])] };
  const frames = encodeMessage(message, signer);
  assert.deepEqual(frames[0], Buffer.from('client-id'));
  assert.deepEqual(frames[1], DELIMITER);
  const decoded = decodeMessage(frames, signer, new ReplayGuard());
  assert.ok(decoded.ok, 'decoded');
  assert.deepEqual(decoded.message.ids, [Buffer.from('client-id')]);
  assert.deepEqual(decoded.message.header, message.header);
  assert.deepEqual(decoded.message.content, { code: '1+1' });
  assert.deepEqual(decoded.message.buffers, [Buffer.from([0, 1, 2, 255])]);
});

test('the signature is computed over the four JSON frames exactly as sent', () => {
  const frames = encodeMessage(outgoing(), signer);
  assert.equal(frames[2]!.toString(), signer.sign(frames.slice(3, 7)));
});

test('a replayed message (same signature) is dropped the second time', () => {
  const frames = encodeMessage(outgoing(), signer);
  const replay = new ReplayGuard();
  assert.equal(decodeMessage(frames, signer, replay).ok, true);
  const second = decodeMessage(frames, signer, replay);
  assert.deepEqual(second, { ok: false, reason: 'replayed signature' });
});

test('the replay record is bounded and forgets the oldest signature first', () => {
  const replay = new ReplayGuard(3);
  for (const signature of ['a', 'b', 'c', 'd']) assert.equal(replay.admit(signature), true);
  assert.equal(replay.admit('d'), false);
  assert.equal(replay.admit('a'), true, 'a was evicted when d arrived');
});

function reasonFor(frames: Buffer[], guard = new ReplayGuard()): string {
  const decoded = decodeMessage(frames, signer, guard);
  assert.equal(decoded.ok, false);
  return decoded.ok ? '' : decoded.reason;
}

function signed(parts: Buffer[]): Buffer[] {
  return [Buffer.from('id'), DELIMITER, Buffer.from(signer.sign(parts)), ...parts];
}

test('malformed input is refused with a reason, never an exception', () => {
  const good = encodeMessage(outgoing(), signer);
  assert.match(reasonFor([]), /no <IDS\|MSG> delimiter/);
  assert.match(reasonFor(good.filter((f) => !f.equals(DELIMITER))), /no <IDS\|MSG> delimiter/);
  assert.match(reasonFor(good.slice(0, 5)), /too few frames/);
  assert.match(reasonFor([...good.slice(0, 2), Buffer.from('0'.repeat(64)), ...good.slice(3)]), /bad or missing signature/);
  assert.match(reasonFor([...good.slice(0, 2), Buffer.alloc(0), ...good.slice(3)]), /bad or missing signature/);
  const header = Buffer.from(JSON.stringify(makeHeader(session, 'kernel_info_request')));
  const obj = Buffer.from('{}');
  assert.match(reasonFor(signed([Buffer.from([0xff, 0xfe]), obj, obj, obj])), /header is not valid UTF-8/);
  assert.match(reasonFor(signed([header, Buffer.from('{"a":'), obj, obj])), /parent_header is not valid JSON/);
  assert.match(reasonFor(signed([header, obj, Buffer.from('[1,2]'), obj])), /metadata is not a JSON object/);
  assert.match(reasonFor(signed([header, obj, obj, Buffer.from('null')])), /content is not a JSON object/);
  assert.match(reasonFor(signed([Buffer.from('{"msg_id":1,"msg_type":"x","session":"s"}'), obj, obj, obj])), /header lacks/);
});

test('without a key, unsigned messages are accepted (spec: empty key = no signing)', () => {
  const open = new Signer('');
  const frames = encodeMessage(outgoing(), open);
  assert.equal(frames[2]!.length, 0);
  const guard = new ReplayGuard();
  assert.equal(decodeMessage(frames, open, guard).ok, true);
  assert.equal(decodeMessage(frames, open, guard).ok, true, 'no replay check without signatures');
});

test('a message whose JSON holds a lone surrogate is refused (it could not be encoded back)', () => {
  const header = Buffer.from(JSON.stringify(makeHeader(session, 'execute_request')));
  const obj = Buffer.from('{}');
  assert.match(reasonFor(signed([header, obj, obj, Buffer.from('{"code":"\\ud800"}')])), /lone UTF-16 surrogate/);
  assert.match(reasonFor(signed([header, obj, obj, Buffer.from('{"\\udfff":1}')])), /lone UTF-16 surrogate/);
  assert.equal(decodeMessage(signed([header, obj, obj, Buffer.from('{"code":"\\ud83d\\ude00"}')]), signer, new ReplayGuard()).ok, true, 'a proper pair is fine');
});
