// Jupyter messaging protocol types. Wire names stay spec-exact (msg_type, parent_header);
// see https://jupyter-client.readthedocs.io/en/latest/messaging.html (protocol 5.3).
import { randomUUID } from 'node:crypto';

export const PROTOCOL_VERSION = '5.3';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface Header {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

/** A decoded message. `ids` are the ROUTER routing prefixes a reply must be sent back to. */
export interface Message<C = JsonObject> {
  ids: Buffer[];
  header: Header;
  parent_header: Header | Record<string, never>;
  metadata: JsonObject;
  content: C;
  buffers: Buffer[];
}

export type Channel = 'shell' | 'control' | 'stdin' | 'iopub';

export interface Session {
  id: string;
  username: string;
}

export function newSession(username = 'tsgpu'): Session {
  return { id: randomUUID(), username };
}

export function makeHeader(session: Session, msgType: string, date = new Date().toISOString()): Header {
  return {
    msg_id: randomUUID(),
    session: session.id,
    username: session.username,
    date,
    msg_type: msgType,
    version: PROTOCOL_VERSION,
  };
}

/** A message to send, before it gets its routing ids and signature. */
export interface Outgoing {
  ids: Buffer[];
  header: Header;
  parent_header: Header | Record<string, never>;
  metadata: JsonObject;
  content: JsonObject;
  buffers?: Buffer[];
}

export function makeReply(session: Session, parent: Message<unknown>, msgType: string, content: JsonObject,
  metadata: JsonObject = {}): Outgoing {
  return { ids: parent.ids, header: makeHeader(session, msgType), parent_header: parent.header, metadata, content };
}

/** An iopub message. The topic frame follows ipykernel's `kernel.<id>.<msg_type>` convention. */
export function makeBroadcast(session: Session, parent: Message<unknown> | null, msgType: string,
  content: JsonObject, metadata: JsonObject = {}, date?: string): Outgoing {
  return {
    ids: [Buffer.from(`kernel.${session.id}.${msgType}`)],
    header: makeHeader(session, msgType, date),
    parent_header: parent ? parent.header : {},
    metadata,
    content,
  };
}

/** The reply msg_type for a request: `execute_request` -> `execute_reply`. */
export function replyType(requestType: string): string {
  return requestType.replace(/_request$/, '_reply');
}
