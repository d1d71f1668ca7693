import { formatBytes, textTable } from './format';

/** The ledger is exact: bytes as counted, with a readable size beside large ones. */
function exactBytes(bytes: number): string {
  return bytes < 1024 * 1024 ? `${bytes} B` : `${bytes} B (${formatBytes(bytes)})`;
}
import { type Magic, MagicError } from './registry';

export const transfersMagic: Magic = {
  name: 'transfers',
  usage: '%transfers [all|reset]',
  help: 'moves between devices: of the last cell that touched tensors, of the session (all), or clears them (reset)',
  async line(args, context) {
    const devices = await context.devices();
    const scope = args.trim();
    if (scope === 'reset') {
      devices.resetTransfers();
      context.print('transfers cleared\n');
      return;
    }
    if (scope !== '' && scope !== 'all') throw new MagicError(`%transfers takes all or reset, not "${scope}"`);
    const records = devices.transfers(scope === 'all' ? 'all' : 'last');
    if (records.length === 0) {
      context.print('no transfers\n');
      return;
    }
    // One row per kind of move and place: a training loop's hundreds of moves read as a few lines.
    const groups = new Map<string, { count: number; bytes: number; ms: number; waitMs: number; copyMs: number; record: (typeof records)[number] }>();
    for (const record of records) {
      const key = [record.direction, record.from, record.to, record.cause, record.operation, record.cell, record.line].join('|');
      const group = groups.get(key) ?? { count: 0, bytes: 0, ms: 0, waitMs: 0, copyMs: 0, record };
      group.count++;
      group.bytes += record.bytes;
      group.ms += record.ms;
      group.waitMs += record.waitMs;
      group.copyMs += record.copyMs;
      groups.set(key, group);
    }
    // GB/s is over the copy alone; a move's wait (queued GPU work, staging set-up) is shown apart.
    const rows = [...groups.values()].map(({ count, bytes, ms, waitMs, copyMs, record }) => [
      record.direction, `${record.from} → ${record.to}`, String(count), exactBytes(bytes), ms.toFixed(3), waitMs.toFixed(3), copyMs.toFixed(3),
      copyMs > 0 && bytes / count >= 64 * 1024 ? (bytes / copyMs / 1e6).toFixed(3) : '', record.cause, record.operation,
      record.cell === null ? '' : record.line === null ? `cell ${record.cell}` : `cell ${record.cell}, line ${record.line}`,
    ]);
    const bytes = records.reduce((sum, record) => sum + record.bytes, 0);
    const ms = records.reduce((sum, record) => sum + record.ms, 0);
    context.print(`${textTable(['dir', 'from → to', 'moves', 'bytes', 'ms', 'wait ms', 'copy ms', 'GB/s', 'cause', 'op', 'where'], rows)}\n`
      + `${records.length} transfers, ${formatBytes(bytes)}, ${ms.toFixed(3)} ms\n`);
  },
};
