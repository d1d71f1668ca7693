import type { FoldedMoves, TransferRecord } from '../kernel/device/device-control';
import { formatBytes, textTable } from './format';
import { type Magic, MagicError } from './registry';

/** The ledger is exact: bytes as counted, with a readable size beside large ones. */
function exactBytes(bytes: number): string {
  return bytes < 1024 * 1024 ? `${bytes} B` : `${bytes} B (${formatBytes(bytes)})`;
}

/** Moves between two GPUs went through the host: each one's legs, one line per move (the newest 20). */
function viaHost(moves: readonly TransferRecord[]): string {
  const between = moves.filter((move) => move.legs !== undefined && move.legs.length > 0);
  if (between.length === 0) return '';
  const shown = between.slice(-20);
  const lines = shown.map((move) => {
    const where = move.cell === null ? '' : move.line === null ? ` (cell ${move.cell})` : ` (cell ${move.cell}, line ${move.line})`;
    const legs = (move.legs ?? []).map((leg) => `${leg.from} → ${leg.to} ${exactBytes(leg.bytes)} in ${(leg.waitMs + leg.copyMs).toFixed(3)} ms`
      + ` (wait ${leg.waitMs.toFixed(3)}, copy ${leg.copyMs.toFixed(3)})`);
    return `  ${move.from} → ${move.to}${where}: ${legs.join(', then ')}`;
  });
  const older = between.length > shown.length ? ` (the newest ${shown.length} of ${between.length})` : '';
  return `moves between GPUs go through the host${older}:\n${lines.join('\n')}\n`;
}

export const transfersMagic: Magic = {
  name: 'transfers',
  usage: '%transfers [all|reset]',
  arguments: ['all', 'reset'],
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
    const listing = devices.transfers(scope === 'all' ? 'all' : 'last');
    if (listing.moves.length === 0 && listing.folded.length === 0) {
      context.print('no transfers\n');
      return;
    }
    // One row per kind of move and place: a training loop's hundreds of moves read as a few lines.
    // A row's time and the total are wall-clock, overlapping moves once (four reads awaited with
    // Promise.all behind the same GPU work took that work's time, not four times it), as the cell's
    // report line counts them. GB/s is over that copy time alone; the wait (queued GPU work, staging
    // set-up) is shown apart. Host values tfjs uploaded inside the first op that used them: bytes
    // exact, time not measured.
    const time = (group: FoldedMoves, ms: number): string => (group.untimed ? '–' : ms.toFixed(3));
    const rows = listing.rows.map((group) => [
      group.direction, `${group.from} → ${group.to}`, String(group.count), exactBytes(group.bytes), time(group, group.ms), time(group, group.waitMs),
      time(group, group.copyMs), group.copyMs > 0 && group.bytes / group.count >= 64 * 1024 ? (group.bytes / group.copyMs / 1e6).toFixed(3) : '',
      group.cause, group.operation,
      group.cell === null ? '' : group.line === null ? `cell ${group.cell}` : `cell ${group.cell}, line ${group.line}`,
    ]);
    const count = listing.rows.reduce((sum, group) => sum + group.count, 0);
    const bytes = listing.rows.reduce((sum, group) => sum + group.bytes, 0);
    const untimed = listing.rows.reduce((sum, group) => sum + (group.untimed ? group.count : 0), 0);
    const { ms, waitMs, copyMs } = listing.time;
    const timed = untimed < count
      ? `, ${ms.toFixed(3)} ms wall-clock (copy ${copyMs.toFixed(3)}, wait ${waitMs.toFixed(3)}; overlapping moves count once, in each row too)`
      : '';
    const notes = [
      untimed > 0 ? `${untimed} uploaded at first use, time not measured (– in the table)` : '',
      listing.foldedCount > 0 ? `${listing.foldedCount} older moves folded into ${listing.folded.length} lines (the newest are kept one by one)` : '',
    ].filter(Boolean).join('; ');
    context.print(`${textTable(['dir', 'from → to', 'moves', 'bytes', 'ms', 'wait ms', 'copy ms', 'GB/s', 'cause', 'op', 'where'], rows)}\n`
      + `${count} transfers, ${formatBytes(bytes)}${timed}${notes ? `; ${notes}` : ''}\n${viaHost(listing.moves)}`);
  },
};
