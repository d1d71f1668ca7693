// Frame encoding and decoding (the spec's "The Wire Protocol"):
//   [routing ids...] <IDS|MSG> signature header parent_header metadata content [buffers...]
// Decoding is one guard: whatever arrives, it returns a message or a reason to drop it, never throws.
import type { Header, JsonObject, Message, Outgoing } from './messages';
import type { ReplayGuard } from './replay';
import type { Signer } from './sign';

export const DELIMITER = Buffer.from('<IDS|MSG>', 'ascii');

/** How a JSON frame becomes bytes: a fresh buffer unless the caller brings slabs (frame-slab.ts). */
export type FrameAllocator = { frame(text: string): Buffer };
const plainFrames: FrameAllocator = { frame: (text) => Buffer.from(text, 'utf8') };

export function encodeMessage(message: Outgoing, signer: Signer, frames: FrameAllocator = plainFrames): Buffer[] {
  const json = [message.header, message.parent_header, message.metadata, message.content]
    .map((part) => frames.frame(JSON.stringify(part)));
  const signature = Buffer.from(signer.sign(json), 'ascii');
  return [...message.ids, DELIMITER, signature, ...json, ...(message.buffers ?? [])];
}

export type Decoded =
  | { ok: true; message: Message }
  | { ok: false; reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseObject(frame: Buffer, name: string): JsonObject | string {
  let text: string;
  try {
    text = utf8.decode(frame);
  } catch {
    return `${name} is not valid UTF-8`;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return `${name} is not valid JSON`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${name} is not a JSON object`;
  return value as JsonObject;
}

/** Deeper JSON than this is no Jupyter message; echoed back (parent_header) it would overflow stacks. */
const MAX_DEPTH = 64;

/**
 * What makes a parsed frame unusable: nesting deeper than MAX_DEPTH, or a string (or key) with a
 * lone surrogate, which cannot be encoded back to UTF-8. Iterative, so no input can overflow it.
 */
function unusable(root: unknown): string | null {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value === 'string') {
      if (!value.isWellFormed()) return 'a string holds a lone UTF-16 surrogate';
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_DEPTH) return `JSON nested deeper than ${MAX_DEPTH} levels`;
    for (const [key, item] of Object.entries(value)) {
      if (!key.isWellFormed()) return 'a string holds a lone UTF-16 surrogate';
      stack.push([item, depth + 1]);
    }
  }
  return null;
}

/**
 * A header is flat: no field is a list or an object (it is echoed back as parent_header). Clients
 * do send null and other scalars in it (@jupyterlab/services does), which is fine.
 */
function isHeader(value: JsonObject): value is JsonObject & Header {
  return typeof value['msg_id'] === 'string' && typeof value['msg_type'] === 'string'
    && typeof value['session'] === 'string' && value['msg_type'] !== ''
    && Object.values(value).every((field) => field === null || typeof field !== 'object');
}

export function decodeMessage(frames: readonly Buffer[], signer: Signer, replay: ReplayGuard): Decoded {
  const at = frames.findIndex((frame) => frame.equals(DELIMITER));
  if (at < 0) return { ok: false, reason: 'no <IDS|MSG> delimiter' };
  if (frames.length < at + 6) return { ok: false, reason: `too few frames (${frames.length}) after the delimiter` };
  const signature = frames[at + 1]!;
  const signed = frames.slice(at + 2, at + 6);
  // Verify before parsing anything: unauthenticated bytes never reach the JSON parser.
  if (!signer.verify(signature, signed)) return { ok: false, reason: 'bad or missing signature' };
  if (signer.enabled && !replay.admit(signature.toString('ascii'))) return { ok: false, reason: 'replayed signature' };

  const [header, parent, metadata, content] = [
    parseObject(signed[0]!, 'header'), parseObject(signed[1]!, 'parent_header'),
    parseObject(signed[2]!, 'metadata'), parseObject(signed[3]!, 'content'),
  ];
  for (const part of [header, parent, metadata, content]) if (typeof part === 'string') return { ok: false, reason: part };
  for (const part of [header, parent, metadata, content]) {
    const problem = unusable(part);
    if (problem) return { ok: false, reason: problem };
  }
  const h = header as JsonObject;
  if (!isHeader(h)) return { ok: false, reason: 'header lacks string msg_id, msg_type or session, or has a list or object field' };
  return {
    ok: true,
    message: {
      ids: frames.slice(0, at),
      header: h,
      parent_header: parent as Message['parent_header'],
      metadata: metadata as JsonObject,
      content: content as JsonObject,
      buffers: frames.slice(at + 6),
    },
  };
}
