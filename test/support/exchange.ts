// Reading an exchange (a request, its reply, its iopub messages) as a user would see it.
import assert from 'node:assert/strict';
import type { Exchange, KernelClient, Received, RequestOptions } from './kernel-client';
import { ContentOf, contentOf, describeMessage, MsgType } from './message-schema';

/** Typed contents of the request's iopub messages of one type, in order. */
export function iopubOf<T extends MsgType>(exchange: { iopub: Received[] }, type: T): ContentOf<T>[] {
  return exchange.iopub.filter((m) => m.header.msg_type === type).map((m) => contentOf(m, type));
}

/** msg_types in arrival order, status shown with its state: ['status:busy', 'execute_input', ...]. */
export function iopubKinds(exchange: { iopub: Received[] }): string[] {
  return exchange.iopub.map((m) =>
    m.header.msg_type === 'status' ? `status:${String(m.content['execution_state'])}` : m.header.msg_type);
}

/** text/plain of the execute_result, or undefined when the cell published none. */
export function resultText(exchange: Exchange): string | undefined {
  const results = iopubOf(exchange, 'execute_result');
  assert.ok(results.length <= 1, `more than one execute_result: ${JSON.stringify(results)}`);
  const text = results[0]?.data['text/plain'];
  if (results[0] !== undefined) assert.equal(typeof text, 'string', 'execute_result without text/plain');
  return text as string | undefined;
}

/** Consecutive stream messages merged: [{name:'stdout', text:'a\nb\n'}, {name:'stderr', ...}]. */
export function streams(exchange: Exchange): { name: string; text: string }[] {
  const merged: { name: string; text: string }[] = [];
  for (const { name, text } of iopubOf(exchange, 'stream')) {
    const last = merged.at(-1);
    if (last !== undefined && last.name === name) last.text += text;
    else merged.push({ name, text });
  }
  return merged;
}

/** Everything the cell wrote to one stream ('stdout' or 'stderr'), in order; '' when nothing. */
export function streamText(exchange: Exchange, name: 'stdout' | 'stderr'): string {
  return iopubOf(exchange, 'stream').filter((stream) => stream.name === name).map((stream) => stream.text).join('');
}

export function executeReply(exchange: Exchange): ContentOf<'execute_reply'> {
  return contentOf(exchange.reply, 'execute_reply');
}

/** Runs a cell that must succeed and returns its result text (undefined if none). */
export async function evaluate(kernel: KernelClient, code: string, options: RequestOptions = {}): Promise<string | undefined> {
  const exchange = await kernel.execute(code, {}, options);
  const reply = executeReply(exchange);
  assert.equal(reply.status, 'ok', `cell ${JSON.stringify(code)} failed: ${describeMessage(exchange.reply)}`);
  return resultText(exchange);
}

/**
 * The contract for every shell and control request: iopub status busy first, status idle last,
 * every iopub message and the reply with the request's header as parent_header.
 */
export function assertBusyThenIdle(exchange: Exchange): void {
  const kinds = iopubKinds(exchange);
  assert.equal(kinds[0], 'status:busy', `first iopub message should be status busy: ${kinds.join(', ')}`);
  assert.equal(kinds.at(-1), 'status:idle', `last iopub message should be status idle: ${kinds.join(', ')}`);
  assert.equal(kinds.filter((k) => k.startsWith('status:')).length, 2, `one busy and one idle: ${kinds.join(', ')}`);
  for (const msg of [exchange.reply, ...exchange.iopub]) {
    assert.deepEqual(msg.parent_header, exchange.request.header, `parent_header of ${msg.header.msg_type}`);
  }
}

/** Cursor positions in the protocol count Unicode code points, not UTF-16 units (spec 5.2+). */
export const codePoints = (text: string): string[] => Array.from(text);

/**
 * The error a failed cell shows: exactly one iopub error, no execute_result, and an execute_reply
 * with status error carrying the same ename, evalue and traceback.
 */
export function cellError(exchange: Exchange): ContentOf<'error'> {
  const errors = iopubOf(exchange, 'error');
  assert.equal(errors.length, 1, `one iopub error expected: ${iopubKinds(exchange).join(', ')}`);
  const published = errors[0] as ContentOf<'error'>;
  const reply = executeReply(exchange);
  assert.equal(reply.status, 'error', `reply status should be error: ${describeMessage(exchange.reply)}`);
  if (reply.status === 'error') {
    assert.deepEqual({ ename: reply.ename, evalue: reply.evalue, traceback: reply.traceback }, published,
      'the reply and the iopub error disagree');
  }
  assert.deepEqual(iopubOf(exchange, 'execute_result'), [], 'a failed cell shows no execute_result');
  return published;
}

/** Runs a cell that must fail and returns its one error. */
export async function failure(kernel: KernelClient, code: string, options: RequestOptions = {}): Promise<ContentOf<'error'>> {
  return cellError(await kernel.execute(code, {}, options));
}
