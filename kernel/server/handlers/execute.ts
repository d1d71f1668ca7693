// execute_request: the protocol bookkeeping around running a cell (ipykernel's execute_request
// vs do_execute split). The language itself lives behind the Interpreter interface.
import type { ExpressionValue, OutputEvent } from '../../interpreter/interpreter';
import type { JsonObject } from '../../protocol/messages';
import type { HandlerContext, KernelCore } from '../kernel-core';

function userExpressionReply(value: ExpressionValue): JsonObject {
  return value.status === 'ok' ? { status: 'ok', data: value.data, metadata: value.metadata } : { ...value };
}

export async function executeRequest(context: HandlerContext, core: KernelCore): Promise<JsonObject> {
  const content = context.request.content;
  const code = typeof content['code'] === 'string' ? content['code'] : '';
  const silent = content['silent'] === true;
  // The spec: silent forces store_history off; store_history defaults to true.
  const storeHistory = !silent && content['store_history'] !== false;
  if (storeHistory) core.executionCount += 1;
  const executionCount = core.executionCount;
  if (storeHistory) context.history.record(executionCount, code);
  if (!silent) context.publish('execute_input', { code, execution_count: executionCount });

  const publishOutput = core.outputFor(context.request, executionCount);
  const emit = (event: OutputEvent): void => {
    // The spec: a silent execute does not broadcast output, nor an execute_result.
    if (silent) return;
    if (event.type === 'execute_result' && storeHistory) {
      const text = event.data['text/plain'];
      if (typeof text === 'string') context.history.recordOutput(executionCount, text);
    }
    publishOutput(event);
  };
  const outcome = await core.whileExecuting(context.request, () => context.interpreter.execute(
    code, { silent, storeHistory, allowStdin: content['allow_stdin'] === true, executionCount }, emit));
  if (outcome.status === 'error') context.publish('error', { ename: outcome.ename, evalue: outcome.evalue, traceback: outcome.traceback });
  // What closes the cell (the device report) comes after its result or error.
  await context.interpreter.finishCell(executionCount, emit);
  if (outcome.status === 'error') {
    const { ename, evalue, traceback } = outcome;
    return { status: 'error', execution_count: executionCount, ename, evalue, traceback };
  }
  const userExpressions: JsonObject = {};
  const expressions = content['user_expressions'];
  if (expressions && typeof expressions === 'object' && !Array.isArray(expressions)) {
    for (const [name, expression] of Object.entries(expressions)) {
      if (typeof expression === 'string') userExpressions[name] = userExpressionReply(await context.interpreter.evaluate(expression));
    }
  }
  return { status: 'ok', execution_count: executionCount, payload: [], user_expressions: userExpressions };
}
