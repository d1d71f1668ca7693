// history_request: tail, range and search over this session's in-memory history.
import type { JsonObject, JsonValue } from '../../protocol/messages';
import type { HistoryQuery } from '../history';
import type { HandlerContext } from '../kernel-core';

function optionalNumber(value: JsonValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export async function historyRequest(context: HandlerContext): Promise<JsonObject> {
  const content = context.request.content;
  const access = content['hist_access_type'];
  if (access !== 'tail' && access !== 'range' && access !== 'search') {
    return { status: 'error', ename: 'ValueError', evalue: `unknown hist_access_type ${JSON.stringify(access ?? null)}`, traceback: [], history: [] };
  }
  const query: HistoryQuery = { hist_access_type: access, output: content['output'] === true, unique: content['unique'] === true };
  const n = optionalNumber(content['n']);
  const session = optionalNumber(content['session']);
  const start = optionalNumber(content['start']);
  const stop = optionalNumber(content['stop']);
  if (n !== undefined) query.n = n;
  if (session !== undefined) query.session = session;
  if (start !== undefined) query.start = start;
  if (stop !== undefined) query.stop = stop;
  if (typeof content['pattern'] === 'string') query.pattern = content['pattern'];
  return { status: 'ok', history: context.history.query(query) };
}
