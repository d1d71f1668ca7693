// Malformed wire messages, shared by the decoder's unit tests and the hostile kernel tests: wrong
// frame counts, missing or near-miss delimiters, bad signatures, bad UTF-8, invalid JSON, lone
// surrogates, wrong field types, megabyte strings, unknown msg_types, odd content. Messages that
// must be refused are signed correctly (over exactly their bytes) unless the signature itself is the
// fault, so they get past the HMAC check and reach the parser. Where the fault leaves the content
// intact it is an execute_request whose code records the message's name: a kernel that wrongly
// runs one shows which.
import { createHmac, randomUUID } from 'node:crypto';
import { DELIMITER } from './wire-sign';

export type SignFn = (parts: readonly Buffer[]) => string;

export interface NastyContext {
  sign: SignFn;
  /** The connection file's key (for signatures made with a wrong key or algorithm). */
  key: string;
  session: string;
  /** Code an execute_request runs if it is wrongly accepted; gets the message's name. */
  payload(name: string): string;
}

export interface BuiltNasty {
  frames: Buffer[];
  /** The msg_id in its header, where it has a readable one. */
  msgId?: string;
}

/**
 * refuse: the decoder must drop it (nothing runs, nothing is answered or published).
 * ignore: a well-formed message of a type no handler has: no reply, nothing published.
 * accept: a well-formed message of a known type with odd content: any valid answer will do.
 */
export type Verdict = 'refuse' | 'ignore' | 'accept';

export interface Nasty {
  name: string;
  category: string;
  verdict: Verdict;
  /** Sending it to a kernel costs a megabyte or more. */
  big?: boolean;
  build(ctx: NastyContext): BuiltNasty;
}

const MB = 1024 * 1024;
const DELIM = (): Buffer => Buffer.from(DELIMITER);
const b = (text: string): Buffer => Buffer.from(text);
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

/** A fresh, valid header. */
export function nastyHeader(ctx: NastyContext, msgType: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    msg_id: randomUUID(), session: ctx.session, username: 'hostile', date: new Date().toISOString(),
    msg_type: msgType, version: '5.3', ...extra,
  };
}

function executeContent(ctx: NastyContext, name: string): Record<string, unknown> {
  return { code: ctx.payload(name), silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: false };
}

/** JSON text with @HI@ / @LO@ replaced by the escapes \ud800 / \udfff (lone surrogates). */
const lone = (text: string): string => text.replace(/@HI@/g, '\\ud800').replace(/@LO@/g, '\\udfff');

interface Parts {
  header: Buffer;
  parent: Buffer;
  metadata: Buffer;
  content: Buffer;
  msgId?: string;
}

/** A normal execute_request's four parts, with any replaced. */
function parts(ctx: NastyContext, name: string, replace: Partial<Parts> = {}): Parts {
  const header = nastyHeader(ctx, 'execute_request');
  const base: Parts = {
    header: json(header), parent: b('{}'), metadata: b('{}'), content: json(executeContent(ctx, name)), msgId: header['msg_id'] as string,
  };
  const merged = { ...base, ...replace };
  if (replace.header !== undefined) delete merged.msgId;
  return merged;
}

const four = (p: Parts): Buffer[] => [p.header, p.parent, p.metadata, p.content];

/** A correctly signed message made of these parts. */
function signed(ctx: NastyContext, p: Parts): BuiltNasty {
  const list = four(p);
  return { frames: [DELIM(), b(ctx.sign(list)), ...list], ...(p.msgId === undefined ? {} : { msgId: p.msgId }) };
}

/** A message whose signature frame is `signature(correct, parts)`. */
function withSignature(name: string, signature: (correct: string, list: Buffer[], ctx: NastyContext) => Buffer): Nasty {
  return {
    name: `signature: ${name}`, category: 'signature', verdict: 'refuse',
    build: (ctx) => {
      const p = parts(ctx, `signature: ${name}`);
      const list = four(p);
      return { frames: [DELIM(), signature(ctx.sign(list), list, ctx), ...list], msgId: p.msgId as string };
    },
  };
}

function refuse(category: string, name: string, build: (ctx: NastyContext, name: string) => BuiltNasty, big = false): Nasty {
  return { name: `${category}: ${name}`, category, verdict: 'refuse', ...(big ? { big } : {}), build: (ctx) => build(ctx, `${category}: ${name}`) };
}

/** Signed message whose one part is replaced by raw text or bytes. */
function badPart(category: string, name: string, part: keyof Omit<Parts, 'msgId'>, value: Buffer | string, big = false): Nasty {
  return refuse(category, name, (ctx, full) => signed(ctx, parts(ctx, full, { [part]: typeof value === 'string' ? b(value) : value })), big);
}

/** Signed message with a header of these (wrong) fields. */
function badHeader(name: string, fields: (ctx: NastyContext) => unknown): Nasty {
  return refuse('field types', name, (ctx, full) => signed(ctx, parts(ctx, full, { header: json(fields(ctx)) })));
}

const flip = (hex: string, at: number): string => {
  const index = at < 0 ? hex.length + at : at;
  const c = hex[index] === '0' ? '1' : '0';
  return hex.slice(0, index) + c + hex.slice(index + 1);
};

/** A normal header and content, with the first frames shaped by `frames`. */
function framing(name: string, frames: (ctx: NastyContext, p: Parts, sig: Buffer) => Buffer[]): Nasty {
  return refuse('frame count', name, (ctx, full) => {
    const p = parts(ctx, full);
    return { frames: frames(ctx, p, b(ctx.sign(four(p)))), msgId: p.msgId as string };
  });
}

function nearDelimiter(text: string): Nasty {
  return refuse('delimiter', `near miss ${JSON.stringify(text)}`, (ctx, full) => {
    const p = parts(ctx, full);
    return { frames: [b(text), b(ctx.sign(four(p))), ...four(p)], msgId: p.msgId as string };
  });
}

/** Nested `depth` arrays around `inner` (JSON text). */
const nested = (depth: number, inner: string): string => '['.repeat(depth) + inner + ']'.repeat(depth);

/** Every message the decoder must refuse. */
export function refusedNasties(): Nasty[] {
  return [
    // Frame counts and empty frames.
    refuse('empty', 'one empty frame', () => ({ frames: [Buffer.alloc(0)] })),
    refuse('empty', 'seven empty frames', () => ({ frames: Array.from({ length: 7 }, () => Buffer.alloc(0)) })),
    refuse('empty', 'delimiter then six empty frames', () => ({ frames: [DELIM(), ...Array.from({ length: 6 }, () => Buffer.alloc(0))] })),
    framing('delimiter only', () => [DELIM()]),
    framing('delimiter and signature only', (_ctx, _p, sig) => [DELIM(), sig]),
    framing('header only', (_ctx, p, sig) => [DELIM(), sig, p.header]),
    framing('content missing', (ctx, p) => [DELIM(), b(ctx.sign([p.header, p.parent, p.metadata])), p.header, p.parent, p.metadata]),
    framing('no signature frame', (_ctx, p) => [DELIM(), ...four(p)]),
    framing('signature after the JSON frames', (_ctx, p, sig) => [DELIM(), ...four(p), sig]),
    framing('parts in the wrong order', (ctx, p) => {
      const list = [p.content, p.metadata, p.parent, p.header];
      return [DELIM(), b(ctx.sign(list)), ...list];
    }),
    // A header is flat (it comes back as parent_header): lists and objects in it are refused.
    refuse('field types', 'header fields a list and an object', (ctx) => {
      const header = nastyHeader(ctx, 'tsgpu_unknown_request', { version: [], date: { nested: true } });
      const list = [Buffer.from(JSON.stringify(header)), Buffer.from('{}'), Buffer.from('{}'), Buffer.from('{}')];
      return { frames: [DELIM(), Buffer.from(ctx.sign(list)), ...list] };
    }),
    // Delimiter.
    refuse('delimiter', 'no delimiter', (ctx, full) => {
      const p = parts(ctx, full);
      return { frames: [b(ctx.sign(four(p))), ...four(p)], msgId: p.msgId as string };
    }),
    ...['<IDS|MSG', 'IDS|MSG>', '<ids|msg>', '<IDS|MSG> ', ' <IDS|MSG>', '<IDS|MSG>\0', '<IDS\u2502MSG>'].map(nearDelimiter),
    refuse('delimiter', 'delimiter twice', (ctx, full) => {
      const p = parts(ctx, full);
      return { frames: [DELIM(), DELIM(), b(ctx.sign(four(p))), ...four(p)], msgId: p.msgId as string };
    }),
    refuse('delimiter', 'signature before the delimiter', (ctx, full) => {
      const p = parts(ctx, full);
      return { frames: [b(ctx.sign(four(p))), DELIM(), ...four(p)], msgId: p.msgId as string };
    }),
    badPart('delimiter', 'delimiter as the header', 'header', DELIMITER),
    // Signatures (the content itself is a well-formed execute_request).
    withSignature('missing (empty frame)', () => Buffer.alloc(0)),
    withSignature('random hex', () => b(randomUUID().replace(/-/g, '') + randomUUID().replace(/-/g, ''))),
    withSignature('first digit flipped', (sig) => b(flip(sig, 0))),
    withSignature('last digit flipped', (sig) => b(flip(sig, -1))),
    withSignature('truncated to 63 digits', (sig) => b(sig.slice(0, 63))),
    withSignature('truncated to 32 digits', (sig) => b(sig.slice(0, 32))),
    withSignature('truncated to 1 digit', (sig) => b(sig.slice(0, 1))),
    withSignature('one digit too many', (sig) => b(`${sig}0`)),
    withSignature('upper-case hex', (sig) => b(sig.toUpperCase())),
    withSignature('space before', (sig) => b(` ${sig.slice(1)}`)),
    withSignature('raw digest bytes instead of hex', (sig) => Buffer.from(sig, 'hex')),
    withSignature('base64 instead of hex', (sig) => b(Buffer.from(sig, 'hex').toString('base64'))),
    withSignature('of other bytes (a different content)', (_sig, list, ctx) =>
      b(ctx.sign([list[0] as Buffer, list[1] as Buffer, list[2] as Buffer, json({ code: '0' })]))),
    withSignature('of the same frames in another order', (_sig, list, ctx) => b(ctx.sign([...list].reverse()))),
    withSignature('of the header alone', (_sig, list, ctx) => b(ctx.sign([list[0] as Buffer]))),
    withSignature('with a wrong key', (_sig, list, ctx) => b(hmac('sha256', `${ctx.key}x`, list))),
    withSignature('with sha512 instead of sha256', (_sig, list, ctx) => b(hmac('sha512', ctx.key, list))),
    withSignature('with sha1 instead of sha256', (_sig, list, ctx) => b(hmac('sha1', ctx.key, list))),
    withSignature('the word null', () => b('null')),
    // UTF-8 (each message correctly signed, so the bytes reach the parser).
    badPart('UTF-8', '0xff 0xfe header', 'header', Buffer.from([0xff, 0xfe])),
    badPart('UTF-8', 'overlong "/" in parent_header', 'parent', Buffer.concat([b('{"a":"'), Buffer.from([0xc0, 0xaf]), b('"}')])),
    badPart('UTF-8', 'CESU-8 surrogate bytes in metadata', 'metadata', Buffer.concat([b('{"a":"'), Buffer.from([0xed, 0xa0, 0x80]), b('"}')])),
    badPart('UTF-8', 'lone continuation byte in metadata', 'metadata', Buffer.concat([b('{"a":"'), Buffer.from([0x80]), b('"}')])),
    badPart('UTF-8', 'truncated 3-byte sequence in content', 'content', Buffer.concat([b('{"code":"'), Buffer.from([0xe2, 0x82]), b('"}')])),
    badPart('UTF-8', 'code point above U+10FFFF in content', 'content', Buffer.concat([b('{"code":"'), Buffer.from([0xf4, 0x90, 0x80, 0x80]), b('"}')])),
    badPart('UTF-8', 'UTF-16LE header', 'header', Buffer.from('{"msg_id":"m","msg_type":"kernel_info_request","session":"s"}', 'utf16le')),
    // JSON.
    ...([
      ['an unterminated object', 'header', '{'],
      ['a missing value', 'parent', '{"a":}'],
      ['single quotes', 'metadata', "{'a':1}"],
      ['a trailing comma', 'metadata', '{"a":1,}'],
      ['NaN', 'parent', 'NaN'],
      ['an empty frame', 'content', ''],
      ['trailing garbage', 'metadata', '{"a":1}garbage'],
      ['two objects', 'metadata', '{"a":1}{"b":2}'],
      ['undefined', 'parent', 'undefined'],
      ['a hex number', 'metadata', '{"a":0x10}'],
      ['an invalid escape', 'metadata', '{"a":"\\x41"}'],
      ['a raw control character in a string', 'metadata', '{"a":"\u0001"}'],
      ['a comment', 'parent', '// c\n{}'],
      ['a truncated escape', 'metadata', '{"a":"\\ud8"}'],
    ] as const).map(([name, part, text]) => badPart('JSON', name, part, text)),
    // Lone surrogates (valid JSON escapes; strings no UTF-8 encoder can write back).
    refuse('lone surrogate', 'in the code (brief example)', (ctx, full) => signed(ctx, parts(ctx, full, {
      content: b(lone(JSON.stringify({ ...executeContent(ctx, full), code: `${ctx.payload(full)} // @HI@` }))),
    }))),
    refuse('lone surrogate', 'low surrogate as msg_id', (ctx, full) => signed(ctx, parts(ctx, full, {
      header: b(lone(JSON.stringify(nastyHeader(ctx, 'execute_request', { msg_id: 'X' })).replace('"X"', '"@LO@"'))),
    }))),
    refuse('lone surrogate', 'reversed pair in the session', (ctx, full) => signed(ctx, parts(ctx, full, {
      header: b(JSON.stringify(nastyHeader(ctx, 'execute_request', { session: 'X' })).replace('"X"', '"\\ude00\\ud83d"')),
    }))),
    refuse('lone surrogate', 'high surrogate ending a string', (ctx, full) => signed(ctx, parts(ctx, full, { metadata: b('{"a":"x\\ud83d"}') }))),
    refuse('lone surrogate', 'as an object key', (ctx, full) => signed(ctx, parts(ctx, full, { metadata: b(lone('{"@HI@":1}')) }))),
    refuse('lone surrogate', 'in parent_header', (ctx, full) => signed(ctx, parts(ctx, full, { parent: b(lone('{"msg_id":"@HI@"}')) }))),
    refuse('lone surrogate', 'nested 10 deep', (ctx, full) => signed(ctx, parts(ctx, full, { metadata: b(lone(`{"a":${nested(10, '"@HI@"')}}`)) }))),
    refuse('lone surrogate', 'nested 70 deep', (ctx, full) => signed(ctx, parts(ctx, full, { metadata: b(lone(`{"a":${nested(70, '"@HI@"')}}`)) }))),
    refuse('lone surrogate', 'key nested 200 deep', (ctx, full) =>
      signed(ctx, parts(ctx, full, { metadata: b(lone(`${'{"a":'.repeat(200)}{"@LO@":1}${'}'.repeat(200)}`)) }))),
    // Field types.
    badHeader('header is an array', () => []),
    badHeader('header is a string', () => 'execute_request'),
    badHeader('header is null', () => null),
    badHeader('header is a number', () => 5),
    badHeader('msg_type is a number', (ctx) => nastyHeader(ctx, 'x', { msg_type: 5 })),
    badHeader('msg_type is null', (ctx) => nastyHeader(ctx, 'x', { msg_type: null })),
    badHeader('msg_type is an object', (ctx) => nastyHeader(ctx, 'x', { msg_type: { toString: 'execute_request' } })),
    badHeader('msg_type is an array', (ctx) => nastyHeader(ctx, 'x', { msg_type: ['execute_request'] })),
    badHeader('msg_type is empty', (ctx) => nastyHeader(ctx, '')),
    badHeader('msg_id is a number', (ctx) => nastyHeader(ctx, 'execute_request', { msg_id: 5 })),
    badHeader('msg_id missing', (ctx) => { const { msg_id: _drop, ...rest } = nastyHeader(ctx, 'execute_request'); return rest; }),
    badHeader('session is null', (ctx) => nastyHeader(ctx, 'execute_request', { session: null })),
    refuse('field types', 'header fields only in __proto__', (ctx, full) => signed(ctx, parts(ctx, full, {
      header: b(`{"__proto__":${JSON.stringify(nastyHeader(ctx, 'execute_request'))}}`),
    }))),
    badPart('field types', 'content is an array', 'content', '["code"]'),
    badPart('field types', 'content is null', 'content', 'null'),
    badPart('field types', 'content is a string', 'content', '"1+1"'),
    badPart('field types', 'content is a number', 'content', '42'),
    badPart('field types', 'parent_header is an array', 'parent', '[]'),
    badPart('field types', 'parent_header is null', 'parent', 'null'),
    badPart('field types', 'metadata is a string', 'metadata', '"m"'),
    badPart('field types', 'metadata is true', 'metadata', 'true'),
    // Megabytes.
    withSignatureBig('a megabyte of signature', () => b('a'.repeat(MB))),
    badPart('size', 'a megabyte of unterminated JSON', 'content', `{"code":"${'x'.repeat(MB)}`, true),
    badPart('size', 'a megabyte of 0xff', 'header', Buffer.alloc(MB, 0xff), true),
    refuse('size', 'a megabyte of lone surrogates', (ctx, full) => signed(ctx, parts(ctx, full, {
      metadata: b(`{"a":"${'\\ud800'.repeat(MB / 6)}"}`),
    })), true),
    refuse('size', '10,000 frames without a delimiter', () => ({ frames: Array.from({ length: 10_000 }, (_, i) => b(String(i))) }), true),
  ];
}

function withSignatureBig(name: string, signature: () => Buffer): Nasty {
  return { ...withSignature(name, signature), category: 'size', big: true };
}

function hmac(algorithm: string, key: string, list: readonly Buffer[]): string {
  const mac = createHmac(algorithm, key);
  for (const part of list) mac.update(part);
  return mac.digest('hex');
}

/** Names no handler should answer to: unknown types, and the names every plain object inherits. */
export const UNKNOWN_TYPES = [
  'tsgpu_unknown_request', 'execute_request ', 'EXECUTE_REQUEST', 'execute_reply', 'status', 'stream', 'input_reply',
  'constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', 'isPrototypeOf', 'propertyIsEnumerable',
  'toLocaleString', '__defineGetter__', '__lookupSetter__',
];

/** Well-formed, correctly signed messages of types the kernel has no handler for. */
export function ignoredNasties(): Nasty[] {
  const plain = UNKNOWN_TYPES.map((type): Nasty => ({
    name: `unknown type: ${JSON.stringify(type)}`, category: 'unknown type', verdict: 'ignore',
    build: (ctx) => {
      const header = nastyHeader(ctx, type);
      return signed(ctx, { header: json(header), parent: b('{}'), metadata: b('{}'), content: json(executeContent(ctx, `unknown type ${type}`)), msgId: header['msg_id'] as string });
    },
  }));
  return [
    ...plain,
    {
      name: 'unknown type: a megabyte long', category: 'size', verdict: 'ignore', big: true,
      build: (ctx) => {
        const header = nastyHeader(ctx, `x${'y'.repeat(MB)}`);
        return signed(ctx, { header: json(header), parent: b('{}'), metadata: b('{}'), content: b('{}'), msgId: header['msg_id'] as string });
      },
    },
    {
      name: 'unknown type: a number where a header string goes, and a megabyte field', category: 'size', verdict: 'ignore', big: true,
      build: (ctx) => {
        const header = nastyHeader(ctx, 'tsgpu_unknown_request', { date: 5, username: null, pad: 'p'.repeat(MB) });
        return signed(ctx, { header: json(header), parent: b('{}'), metadata: b('{}'), content: b('{}'), msgId: header['msg_id'] as string });
      },
    },
  ];
}

/** Well-formed, correctly signed messages of known types whose content has odd or wrong field types. */
export function acceptedNasties(): Nasty[] {
  const request = (name: string, msgType: string, content: unknown, options: { big?: boolean; header?: Record<string, unknown>; extra?: Buffer[]; ids?: Buffer[] } = {}): Nasty => ({
    name: `content types: ${name}`, category: options.big === true ? 'size' : 'content types', verdict: 'accept',
    ...(options.big === true ? { big: true } : {}),
    build: (ctx) => {
      const header = nastyHeader(ctx, msgType, options.header ?? {});
      const list = [json(header), b('{}'), b('{}'), json(content)];
      return { frames: [...(options.ids ?? []), DELIM(), b(ctx.sign(list)), ...list, ...(options.extra ?? [])], msgId: header['msg_id'] as string };
    },
  });
  return [
    request('execute code is a number, flags are strings', 'execute_request',
      { code: 123, silent: 'yes', store_history: 'no', user_expressions: [1], allow_stdin: 'x', stop_on_error: 'x' }),
    request('execute with an empty content', 'execute_request', {}),
    request('execute code is an array holding a loop', 'execute_request', { code: ['while (true) {}'], user_expressions: { a: 5, b: {} } }),
    request('complete with a negative cursor', 'complete_request', { code: 5, cursor_pos: -1 }),
    request('complete with a cursor of 1e300', 'complete_request', { code: 'Math.', cursor_pos: 1e300 }),
    request('complete with a fractional cursor', 'complete_request', { code: 'abc', cursor_pos: 2.5 }),
    request('inspect with wrong types', 'inspect_request', { code: [], cursor_pos: 'a', detail_level: 7 }),
    request('is_complete code is an object', 'is_complete_request', { code: {} }),
    request('history n is 1e308', 'history_request', { hist_access_type: 'tail', n: 1e308 }),
    request('history range of wrong types', 'history_request', { hist_access_type: 'range', session: -1, start: 'a', stop: null }),
    request('history search pattern is a number', 'history_request', { hist_access_type: 'search', pattern: 5 }),
    request('history access type is an array', 'history_request', { hist_access_type: ['tail'] }),
    request('comm_info target is a number', 'comm_info_request', { target_name: 5 }),
    request('comm_open of wrong types', 'comm_open', { comm_id: 5, target_name: {}, data: [] }),
    request('comm_msg of wrong types', 'comm_msg', { comm_id: [], data: 'x' }),
    request('kernel_info with 100 extra buffer frames', 'kernel_info_request', {}, { extra: Array.from({ length: 100 }, (_, i) => b(String(i))) }),
    request('kernel_info with a megabyte content field', 'kernel_info_request', { pad: 'p'.repeat(MB) }, { big: true }),
    request('kernel_info with a megabyte msg_id', 'kernel_info_request', {}, { big: true, header: { msg_id: `m${'i'.repeat(MB)}` } }),
    request('kernel_info with a megabyte routing id before the delimiter', 'kernel_info_request', {}, { big: true, ids: [b('r'.repeat(MB))] }),
    request('execute a megabyte comment, silently', 'execute_request',
      { code: `// ${'c'.repeat(MB)}`, silent: true, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: false }, { big: true }),
  ];
}

/** All of them: refused, ignored, accepted. */
export function allNasties(): Nasty[] {
  return [...refusedNasties(), ...ignoredNasties(), ...acceptedNasties()];
}

/** A header nested `depth` deep in an extra field: valid JSON that a recursive encoder cannot echo back. */
export function deeplyNestedHeader(ctx: NastyContext, msgType: string, depth: number): BuiltNasty {
  const header = nastyHeader(ctx, msgType);
  const text = `${JSON.stringify(header).slice(0, -1)},"deep":${nested(depth, '')}}`;
  const list = [b(text), b('{}'), b('{}'), b('{}')];
  return { frames: [DELIM(), b(ctx.sign(list)), ...list], msgId: header['msg_id'] as string };
}
