// The client side of the Jupyter wire format: [identities..., '<IDS|MSG>', signature, header,
// parent_header, metadata, content, buffers...], signed with HMAC over the four JSON frames.
// Written independently of kernel/protocol so the tests do not trust the code they test.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RawMessage } from './message-schema';

export const DELIMITER = '<IDS|MSG>';

export type Signer = (parts: readonly (Buffer | string)[]) => string;

/** Signature function for a connection file's scheme and key; an empty key means unsigned (''). */
export function makeSigner(scheme: string, key: string): Signer {
  if (key === '') return () => '';
  const match = /^hmac-([a-z0-9-]+)$/.exec(scheme);
  if (match === null) throw new Error(`unsupported signature_scheme ${scheme}`);
  const algorithm = match[1] as string;
  return (parts) => {
    const hmac = createHmac(algorithm, key);
    for (const part of parts) hmac.update(part);
    return hmac.digest('hex');
  };
}

export interface OutgoingMessage {
  header: Record<string, unknown> & { msg_id: string; msg_type: string };
  parent_header: Record<string, unknown>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
}

/** Frames for a DEALER socket; `signature` overrides the computed one (bad-signature tests). */
export function encodeFrames(msg: OutgoingMessage, sign: Signer, signature?: string): Buffer[] {
  const parts = [msg.header, msg.parent_header, msg.metadata, msg.content].map((p) => Buffer.from(JSON.stringify(p)));
  return [Buffer.from(DELIMITER), Buffer.from(signature ?? sign(parts)), ...parts];
}

export type Decoded =
  | { ok: true; message: RawMessage; buffers: Buffer[] }
  | { ok: false; reason: string };

export function decodeFrames(frames: readonly Buffer[], sign: Signer): Decoded {
  const at = frames.findIndex((f) => f.toString() === DELIMITER);
  if (at < 0) return { ok: false, reason: 'no <IDS|MSG> delimiter' };
  const [signature, header, parent, metadata, content, ...buffers] = frames.slice(at + 1);
  if (signature === undefined || header === undefined || parent === undefined
    || metadata === undefined || content === undefined) {
    return { ok: false, reason: `only ${frames.length - at - 1} frames after the delimiter` };
  }
  const expected = Buffer.from(sign([header, parent, metadata, content]));
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
    return { ok: false, reason: `bad signature ${JSON.stringify(signature.toString())}` };
  }
  try {
    const message: RawMessage = {
      header: JSON.parse(header.toString()),
      parent_header: JSON.parse(parent.toString()),
      metadata: JSON.parse(metadata.toString()),
      content: JSON.parse(content.toString()),
    };
    return { ok: true, message, buffers };
  } catch (error) {
    return { ok: false, reason: `invalid JSON: ${(error as Error).message}` };
  }
}
