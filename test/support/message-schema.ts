// Jupyter messaging spec 5.3 as validators: one schema per msg_type the protocol tests can receive.
// https://jupyter-client.readthedocs.io/en/stable/messaging.html
// Every reply and iopub message the kernel client receives goes through `validateMessage`.
import assert from 'node:assert/strict';
import {
  anyJson,
  arrayOf,
  bool,
  emptyObject,
  Infer,
  int,
  isPlainObject,
  literal,
  nonEmptyStr,
  nonNegativeInt,
  nullValue,
  obj,
  optional,
  pattern,
  Problems,
  record,
  Shape,
  str,
  tuple,
  union,
  variants,
} from './schema';

// ISO 8601 date-time; the spec asks for it in every header since 5.1.
const isoDate = pattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/, 'ISO 8601 date-time');

export const headerSchema = obj({
  msg_id: nonEmptyStr,
  session: nonEmptyStr,
  username: str,
  date: isoDate,
  msg_type: nonEmptyStr,
  version: pattern(/^5\.\d+$/, 'protocol version 5.x'),
});
export type Header = Infer<typeof headerSchema>;

const parentHeaderSchema = union(emptyObject, headerSchema);
const dict = record(anyJson);
const mimeBundle = record(anyJson);
const traceback = arrayOf(str);

/** Every reply may fail with this shape instead of its own (spec: "Request-Reply", errors). */
const errorReply = obj({ status: literal('error'), ename: str, evalue: str, traceback });

function reply<const P extends Shape>(okShape: P) {
  return variants('status', { ok: obj({ status: literal('ok'), ...okShape }), error: errorReply });
}

const historyEntry = union(
  tuple(int, int, str),
  tuple(int, int, tuple(str, union(str, nullValue))),
);

export const contentSchemas = {
  // iopub
  status: obj({ execution_state: literal('busy', 'idle', 'starting') }),
  execute_input: obj({ code: str, execution_count: nonNegativeInt }),
  execute_result: obj({
    execution_count: nonNegativeInt,
    data: mimeBundle,
    metadata: dict,
    transient: optional(dict),
  }),
  display_data: obj({ data: mimeBundle, metadata: dict, transient: dict }),
  update_display_data: obj({ data: mimeBundle, metadata: dict, transient: obj({ display_id: str }) }),
  clear_output: obj({ wait: bool }),
  stream: obj({ name: literal('stdout', 'stderr'), text: str }),
  error: obj({ ename: str, evalue: str, traceback }),
  comm_open: obj({ comm_id: nonEmptyStr, target_name: str, data: dict, target_module: optional(union(str, nullValue)) }),
  comm_msg: obj({ comm_id: nonEmptyStr, data: dict }),
  comm_close: obj({ comm_id: nonEmptyStr, data: dict }),
  // shell / control replies
  execute_reply: variants('status', {
    ok: obj({
      status: literal('ok'),
      execution_count: nonNegativeInt,
      user_expressions: dict,
      payload: optional(arrayOf(dict)),
    }),
    error: obj({ status: literal('error'), execution_count: nonNegativeInt, ename: str, evalue: str, traceback }),
    aborted: obj({ status: literal('aborted'), execution_count: optional(nonNegativeInt) }),
  }),
  kernel_info_reply: reply({
    protocol_version: pattern(/^\d+\.\d+(\.\d+)?$/, 'version X.Y[.Z]'),
    implementation: str,
    implementation_version: str,
    language_info: obj({
      name: str,
      version: str,
      mimetype: str,
      file_extension: str,
      pygments_lexer: optional(str),
      codemirror_mode: optional(union(str, dict)),
      nbconvert_exporter: optional(str),
    }),
    banner: str,
    help_links: optional(arrayOf(obj({ text: str, url: str }))),
    debugger: optional(bool),
  }),
  complete_reply: reply({ matches: arrayOf(str), cursor_start: nonNegativeInt, cursor_end: nonNegativeInt, metadata: dict }),
  inspect_reply: reply({ found: bool, data: mimeBundle, metadata: dict }),
  is_complete_reply: variants('status', {
    complete: obj({ status: literal('complete') }),
    incomplete: obj({ status: literal('incomplete'), indent: str }),
    invalid: obj({ status: literal('invalid') }),
    unknown: obj({ status: literal('unknown') }),
  }),
  history_reply: reply({ history: arrayOf(historyEntry) }),
  comm_info_reply: reply({ comms: record(obj({ target_name: str })) }),
  shutdown_reply: reply({ restart: bool }),
  interrupt_reply: reply({}),
  // stdin
  input_request: obj({ prompt: str, password: bool }),
} as const;

export type MsgType = keyof typeof contentSchemas;
export type ContentOf<T extends MsgType> = Infer<(typeof contentSchemas)[T]>;
export type ReplyType = Extract<MsgType, `${string}_reply`>;
export type OkContentOf<T extends ReplyType> = Extract<ContentOf<T>, { status: 'ok' }>;

/** A message as decoded from the wire, before validation. */
export interface RawMessage {
  header: unknown;
  parent_header: unknown;
  metadata: unknown;
  content: unknown;
}

/** A message that passed `validateMessage` (content is read through `contentOf`). */
export interface JupyterMessage {
  header: Header;
  parent_header: Header | Record<string, never>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
}

export function isMsgType(type: unknown): type is MsgType {
  return typeof type === 'string' && Object.hasOwn(contentSchemas, type);
}

export function validateMessage(msg: RawMessage): Problems {
  const problems = [
    ...headerSchema.check(msg.header, 'header'),
    ...parentHeaderSchema.check(msg.parent_header, 'parent_header'),
    ...dict.check(msg.metadata, 'metadata'),
  ];
  const type = isPlainObject(msg.header) ? msg.header['msg_type'] : undefined;
  if (isMsgType(type)) problems.push(...contentSchemas[type].check(msg.content, 'content'));
  else problems.push(`header.msg_type: ${JSON.stringify(type)} is not a message the kernel should send here`);
  return problems;
}

export function describeMessage(msg: RawMessage): string {
  const type = isPlainObject(msg.header) ? String(msg.header['msg_type']) : '?';
  return `${type} ${JSON.stringify(msg.content)}`.slice(0, 400);
}

export function assertValid(msg: RawMessage): asserts msg is JupyterMessage {
  const problems = validateMessage(msg);
  if (problems.length > 0) {
    assert.fail(`invalid ${describeMessage(msg)}:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Checks type and schema, then returns the typed content. */
export function contentOf<T extends MsgType>(msg: RawMessage, type: T): ContentOf<T> {
  assertValid(msg);
  assert.equal(msg.header.msg_type, type, `expected a ${type}, got ${describeMessage(msg)}`);
  return msg.content as ContentOf<T>;
}

/** A reply's content, asserting status 'ok' (the error variant's ename/evalue go into the failure). */
export function okContent<T extends ReplyType>(msg: RawMessage, type: T): OkContentOf<T> {
  const content = contentOf(msg, type) as Record<string, unknown>;
  assert.equal(content['status'], 'ok', `expected ${type} status ok, got ${describeMessage(msg)}`);
  return content as OkContentOf<T>;
}
