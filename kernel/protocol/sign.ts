// HMAC signing of the four JSON frames (header, parent_header, metadata, content), as the spec's
// "The Wire Protocol" section defines it. Verification works on the raw received bytes, never on
// re-serialised JSON, so a message is judged exactly as its sender signed it.
import { createHmac, getHashes, timingSafeEqual } from 'node:crypto';

export class Signer {
  private readonly key: Buffer;
  private readonly digest: string;

  /** @param scheme the connection file's `signature_scheme`, e.g. `hmac-sha256`. */
  constructor(key: string, scheme = 'hmac-sha256') {
    this.key = Buffer.from(key, 'utf8');
    const match = /^hmac-(.+)$/.exec(scheme);
    const digest = match?.[1];
    if (!digest || !getHashes().includes(digest)) {
      throw new Error(`unsupported signature_scheme "${scheme}": expected hmac-<digest>, e.g. hmac-sha256`);
    }
    this.digest = digest;
  }

  /** The spec says an empty key turns signing off: signatures are empty and not checked. */
  get enabled(): boolean {
    return this.key.length > 0;
  }

  sign(frames: readonly Buffer[]): string {
    if (!this.enabled) return '';
    const hmac = createHmac(this.digest, this.key);
    for (const frame of frames) hmac.update(frame);
    return hmac.digest('hex');
  }

  /** Timing-safe check of a received hex signature against the frames it claims to sign. */
  verify(signature: Buffer, frames: readonly Buffer[]): boolean {
    if (!this.enabled) return true;
    const expected = Buffer.from(this.sign(frames), 'ascii');
    return signature.length === expected.length && timingSafeEqual(signature, expected);
  }
}
