// iopub messages of one cell -> nbformat outputs, as a notebook front end would keep them:
// consecutive stream text merged, update_display_data applied in place, clear_output honoured.
import type { JsonObject, Message } from '../../protocol/messages';
import type { Output } from './notebook';

export class CellOutputs {
  readonly outputs: Output[] = [];
  executionCount: number | null = null;
  private clearPending = false;
  /** Every output shown under a display id, so an update replaces them all. */
  private readonly byDisplayId = new Map<string, Output[]>();
  /** Outputs replaced in place since they were shown (a progress bar's final state). */
  readonly updated = new Set<Output>();

  /** Applies one iopub message; returns the output it added or changed, if any. */
  apply(message: Message): Output | null {
    const content = message.content;
    const type = message.header.msg_type;
    if (type === 'execute_input') {
      this.executionCount = typeof content['execution_count'] === 'number' ? content['execution_count'] : null;
      return null;
    }
    if (type === 'clear_output') {
      if (content['wait'] === true) this.clearPending = true;
      else this.clear();
      return null;
    }
    if (type === 'update_display_data') {
      const id = (content['transient'] as JsonObject | undefined)?.['display_id'];
      for (const output of typeof id === 'string' ? this.byDisplayId.get(id) ?? [] : []) {
        output['data'] = content['data'] ?? {};
        output['metadata'] = content['metadata'] ?? {};
        this.updated.add(output);
      }
      return null;
    }
    if (!['stream', 'display_data', 'execute_result', 'error'].includes(type)) return null;
    if (this.clearPending) this.clear();
    let output: Output;
    if (type === 'stream') {
      const last = this.outputs.at(-1);
      if (last?.output_type === 'stream' && last['name'] === content['name']) {
        last['text'] = `${String(last['text'])}${String(content['text'])}`;
        return { output_type: 'stream', name: content['name'] ?? 'stdout', text: content['text'] ?? '' };
      }
      output = { output_type: 'stream', name: content['name'] ?? 'stdout', text: content['text'] ?? '' };
    } else if (type === 'error') {
      output = { output_type: 'error', ename: content['ename'] ?? '', evalue: content['evalue'] ?? '', traceback: content['traceback'] ?? [] };
    } else {
      output = { output_type: type as 'display_data' | 'execute_result', data: content['data'] ?? {}, metadata: content['metadata'] ?? {} };
      if (type === 'execute_result') output['execution_count'] = content['execution_count'] ?? null;
      const id = (content['transient'] as JsonObject | undefined)?.['display_id'];
      if (typeof id === 'string') this.byDisplayId.set(id, [...(this.byDisplayId.get(id) ?? []), output]);
    }
    this.outputs.push(output);
    return output;
  }

  private clear(): void {
    this.outputs.length = 0;
    this.clearPending = false;
  }
}
