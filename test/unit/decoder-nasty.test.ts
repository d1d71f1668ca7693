// The decoder's guard against the nastiest input we can build: every message that is not a
// correctly signed, fresh, well-formed Jupyter message comes back as {ok:false, reason}, and no
// input, however broken, makes decodeMessage throw.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { ReplayGuard } from '../../kernel/protocol/replay';
import { Signer } from '../../kernel/protocol/sign';
import { decodeMessage, DELIMITER, type Decoded } from '../../kernel/protocol/wire';
import { acceptedNasties, deeplyNestedHeader, ignoredNasties, type NastyContext, nastyHeader, refusedNasties } from '../support/nasty-frames';

const KEY = 'b9f8a1c2d3e4f5a6b7c8d9e0f1a2b3c4';
const signer = new Signer(KEY, 'hmac-sha256');
const unsigned = new Signer('');
const ROUTING_ID = Buffer.from('client-routing-id');

function context(sign: Signer): NastyContext {
  return {
    sign: (parts) => sign.sign([...parts]),
    key: KEY,
    session: randomUUID(),
    payload: (name) => `hostileRuns.push(${JSON.stringify(name)}); 0`,
  };
}

/** decodeMessage with a fresh replay guard, turning a throw into a failure that names the input. */
function decode(name: string, frames: readonly Buffer[], sign = signer, guard = new ReplayGuard()): Decoded {
  try {
    return decodeMessage(frames, sign, guard);
  } catch (error) {
    assert.fail(`decodeMessage threw on "${name}": ${(error as Error).stack ?? String(error)}`);
  }
}

function assertRefused(name: string, decoded: Decoded): void {
  // The header may be too deep to stringify: name only its type and id.
  assert.equal(decoded.ok, false, `"${name}" was accepted: ${decoded.ok ? `${decoded.message.header.msg_type} ${decoded.message.header.msg_id}` : ''}`);
  if (!decoded.ok) {
    assert.equal(typeof decoded.reason, 'string', `"${name}": reason is not a string`);
    assert.ok(decoded.reason.length > 0, `"${name}": empty reason`);
  }
}

describe('decodeMessage refuses malformed messages and never throws', () => {
  const nasties = refusedNasties();

  test('every refused message (as a ROUTER sees it, behind a routing id) comes back {ok:false, reason}', (t) => {
    const accepted: string[] = [];
    const reasons = new Map<string, number>();
    for (const nasty of nasties) {
      const { frames } = nasty.build(context(signer));
      const decoded = decode(nasty.name, [ROUTING_ID, ...frames]);
      if (decoded.ok) accepted.push(nasty.name);
      else reasons.set(decoded.reason.replace(/\(\d+\)/g, '(N)'), (reasons.get(decoded.reason.replace(/\(\d+\)/g, '(N)')) ?? 0) + 1);
    }
    t.diagnostic(`${nasties.length} malformed messages, ${nasties.length - accepted.length} refused; reasons: ${[...reasons].map(([r, n]) => `${r} ×${n}`).join('; ')}`);
    assert.deepEqual(accepted, [], 'malformed messages the decoder accepted');
  });

  test('every refused message with no routing id at all is refused too', () => {
    const accepted = nasties.filter((nasty) => decode(nasty.name, nasty.build(context(signer)).frames).ok).map((n) => n.name);
    assert.deepEqual(accepted, [], 'malformed messages the decoder accepted');
  });

  test('with an empty key (signing off) every fault other than the signature is still refused', () => {
    // Unsigned clients send an empty signature frame; the messages keep whatever they have there.
    const accepted = nasties.filter((nasty) => !nasty.name.startsWith('signature:'))
      .filter((nasty) => decode(nasty.name, [ROUTING_ID, ...nasty.build(context(unsigned)).frames], unsigned).ok)
      .map((n) => n.name);
    assert.deepEqual(accepted, [], 'malformed messages the decoder accepted with signing off');
  });

  test('a header nested 5,000 and 100,000 deep (valid JSON no reply could echo back) is refused', () => {
    const accepted = [5_000, 100_000].filter((depth) => {
      const { frames } = deeplyNestedHeader(context(signer), 'kernel_info_request', depth);
      return decode(`header nested ${depth} deep`, [ROUTING_ID, ...frames]).ok;
    });
    assert.deepEqual(accepted, [], 'header depths the decoder accepted (JSON.stringify of such a header, as every reply\'s '
      + 'parent_header, throws RangeError: Maximum call stack size exceeded)');
  });

  test('a message signed with the key but replayed byte-identical is refused every time after the first', () => {
    const guard = new ReplayGuard();
    const ctx = context(signer);
    const list = [nastyHeader(ctx, 'execute_request'), {}, {}, { code: '1' }].map((part) => Buffer.from(JSON.stringify(part)));
    const frames = [ROUTING_ID, DELIMITER, Buffer.from(signer.sign(list)), ...list];
    assert.equal(decode('original', frames, signer, guard).ok, true, 'the original must be accepted');
    for (let i = 0; i < 20; i++) assertRefused(`replay ${i + 1}`, decode(`replay ${i + 1}`, frames, signer, guard));
    // Different routing ids (another connection) and extra buffers do not make it new.
    assertRefused('replay from another routing id', decode('replay, other id', [Buffer.from('other'), ...frames.slice(1)], signer, guard));
    assertRefused('replay with a buffer appended', decode('replay + buffer', [...frames, Buffer.from('buffer')], signer, guard));
  });
});

describe('random corruption of a valid message', () => {
  /** Deterministic PRNG (mulberry32), so a failure names a reproducible seed and iteration. */
  function random(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  test('5,000 single mutations of the signature or JSON frames are all refused, none throws', (t) => {
    const seed = 20261126;
    const next = random(seed);
    const int = (n: number): number => Math.floor(next() * n);
    const ctx = context(signer);
    const list = [nastyHeader(ctx, 'execute_request'), { msg_id: 'p' }, { m: 1 }, { code: 'globalThis.ran = 1', silent: false }]
      .map((part) => Buffer.from(JSON.stringify(part)));
    const valid: Buffer[] = [ROUTING_ID, DELIMITER, Buffer.from(signer.sign(list)), ...list];
    assert.equal(decode('the valid original', valid).ok, true, 'the unmutated message must be accepted');
    const kinds = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const frames: Buffer[] = valid.map((frame): Buffer => Buffer.from(frame));
      const target = 2 + int(5); // signature, header, parent_header, metadata, content
      const frame = frames[target] as Buffer;
      let kind: string;
      switch (int(6)) {
        case 0: {
          kind = 'flip a byte';
          const at = int(frame.length);
          frame[at] = (frame[at] ?? 0) ^ (1 + int(255));
          break;
        }
        case 1:
          kind = 'truncate a frame';
          frames[target] = frame.subarray(0, int(frame.length));
          break;
        case 2: {
          kind = 'insert a byte';
          const at = int(frame.length + 1);
          frames[target] = Buffer.concat([frame.subarray(0, at), Buffer.from([int(256)]), frame.subarray(at)]);
          break;
        }
        case 3:
          kind = 'drop a frame';
          frames.splice(1 + int(6), 1);
          break;
        case 4: {
          kind = 'swap two frames';
          const other = 2 + ((target - 2 + 1 + int(4)) % 5);
          [frames[target], frames[other]] = [frames[other] as Buffer, frames[target] as Buffer];
          break;
        }
        default:
          kind = 'append bytes';
          frames[target] = Buffer.concat([frame, Buffer.from([0x20 + int(200)])]);
      }
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      assertRefused(`seed ${seed}, iteration ${i} (${kind} in frame ${target})`, decode(`seed ${seed} #${i}`, frames));
    }
    t.diagnostic(`5000 mutations refused: ${[...kinds].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  });
});

describe('odd but well-formed messages', () => {
  test('unknown types and odd content decode without throwing (the kernel, not the decoder, deals with them)', () => {
    for (const nasty of [...ignoredNasties(), ...acceptedNasties()]) {
      const decoded = decode(nasty.name, [ROUTING_ID, ...nasty.build(context(signer)).frames]);
      assert.equal(decoded.ok, true, `"${nasty.name}" was refused: ${decoded.ok ? '' : decoded.reason}`);
    }
  });

  test('content nested 1,000,000 deep and a 16 MiB string decode without throwing', () => {
    const ctx = context(signer);
    for (const [name, content] of [
      ['content nested 1,000,000 deep', `{"a":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}`],
      ['a 16 MiB string', `{"code":"${'s'.repeat(16 * 1024 * 1024)}"}`],
    ] as const) {
      const list = [Buffer.from(JSON.stringify(nastyHeader(ctx, 'execute_request'))), Buffer.from('{}'), Buffer.from('{}'), Buffer.from(content)];
      const decoded = decode(name, [ROUTING_ID, DELIMITER, Buffer.from(signer.sign(list)), ...list]);
      assert.equal(typeof decoded.ok, 'boolean', name);
    }
  });

  test('100,000 routing frames before the delimiter, and a delimiter as the last frame, do not throw', () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => Buffer.from(`id${i}`));
    assertRefused('100,000 ids then a lone delimiter', decode('ids + delimiter', [...ids, DELIMITER]));
    assertRefused('100,000 empty frames', decode('empty frames', ids.map(() => Buffer.alloc(0))));
  });
});
