// complete_request, inspect_request and is_complete_request: what an editor asks while the user
// types. Cursor positions stay in Unicode code points end to end.
import type { JsonObject } from '../../protocol/messages';
import type { HandlerContext } from '../kernel-core';

function stringField(content: JsonObject, name: string): string {
  const value = content[name];
  return typeof value === 'string' ? value : '';
}

function cursorField(content: JsonObject, code: string): number {
  const value = content['cursor_pos'];
  // A missing cursor means "at the end" (older clients).
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : [...code].length;
}

export async function completeRequest(context: HandlerContext): Promise<JsonObject> {
  const code = stringField(context.request.content, 'code');
  const found = await context.interpreter.complete(code, cursorField(context.request.content, code));
  return {
    status: 'ok', matches: found.matches, cursor_start: found.cursorStart, cursor_end: found.cursorEnd, metadata: found.metadata,
  };
}

export async function inspectRequest(context: HandlerContext): Promise<JsonObject> {
  const code = stringField(context.request.content, 'code');
  const detail = context.request.content['detail_level'] === 1 ? 1 : 0;
  const found = await context.interpreter.inspect(code, cursorField(context.request.content, code), detail);
  return { status: 'ok', found: found.found, data: found.data, metadata: {} };
}

export async function isCompleteRequest(context: HandlerContext): Promise<JsonObject> {
  const answer = await context.interpreter.isComplete(stringField(context.request.content, 'code'));
  return { ...answer };
}
