// HMAC signing checked against vectors computed by Python's hmac module, the implementation
// jupyter_client itself signs with.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { Signer } from '../../kernel/protocol/sign';

const frames = ['{"msg_id":"1","msg_type":"kernel_info_request","session":"s"}', '{}', '{}', '{"code":"1+1 // ünïcödé 😀"}'];

function pythonHmac(key: string, digest: string, parts: string[]): string {
  const script = 'import hmac, hashlib, json, sys\n'
    + 'key, digest, parts = json.loads(sys.stdin.read())\n'
    + 'h = hmac.new(key.encode(), digestmod=getattr(hashlib, digest))\n'
    + 'for p in parts: h.update(p.encode())\n'
    + 'print(h.hexdigest())';
  return execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify([key, digest, parts]), encoding: 'utf8' }).trim();
}

for (const digest of ['sha256', 'sha512', 'sha1']) {
  test(`hmac-${digest} signature matches Python's hmac over the same frames`, () => {
    const key = 'a0436f6c-1916-498b-8eb9-e81ab9368e84';
    const signer = new Signer(key, `hmac-${digest}`);
    assert.equal(signer.sign(frames.map((f) => Buffer.from(f))), pythonHmac(key, digest, frames));
  });
}

test('verify accepts the right signature and rejects a changed frame, a changed signature and a missing one', () => {
  const signer = new Signer('secret');
  const buffers = frames.map((f) => Buffer.from(f));
  const signature = Buffer.from(signer.sign(buffers));
  assert.equal(signer.verify(signature, buffers), true);
  const tampered = [...buffers.slice(0, 3), Buffer.from('{"code":"process.exit()"}')];
  assert.equal(signer.verify(signature, tampered), false);
  const flipped = Buffer.from(signature);
  flipped[0] = flipped[0] === 0x30 ? 0x31 : 0x30;
  assert.equal(signer.verify(flipped, buffers), false);
  assert.equal(signer.verify(Buffer.alloc(0), buffers), false);
  assert.equal(signer.verify(signature.subarray(0, 10), buffers), false);
});

test('an empty key turns signing off, as the spec says', () => {
  const signer = new Signer('');
  assert.equal(signer.enabled, false);
  assert.equal(signer.sign([Buffer.from('{}')]), '');
  assert.equal(signer.verify(Buffer.from('anything'), [Buffer.from('{}')]), true);
});

test('an unknown signature_scheme is refused with a message naming it', () => {
  assert.throws(() => new Signer('k', 'hmac-nosuchdigest'), /unsupported signature_scheme "hmac-nosuchdigest"/);
  assert.throws(() => new Signer('k', 'rsa'), /unsupported signature_scheme "rsa"/);
});
