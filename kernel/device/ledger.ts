// Every move between devices, implicit or explicit, with its exact size and the cell line that
// caused it. The session keeps them all; "the last cell's" are what the report and %transfers show.
import type { TransferRecord } from './device-control';

export class TransferLedger {
  private records: TransferRecord[] = [];
  private cellStart = 0;
  private last: TransferRecord[] = [];
  /** Running totals since the session started (reset does not touch them: progress bars diff them). */
  private total = { count: 0, bytes: 0, ms: 0 };

  add(record: TransferRecord): void {
    this.records.push(record);
    this.total = { count: this.total.count + 1, bytes: this.total.bytes + record.bytes, ms: this.total.ms + record.ms };
  }

  totals(): { count: number; bytes: number; ms: number } {
    return this.total;
  }

  beginCell(): void {
    this.cellStart = this.records.length;
  }

  /** A cell that ran ops or moved tensors becomes "the last cell", even if it moved nothing. */
  endCell(ranOps: boolean): TransferRecord[] {
    const moves = this.records.slice(this.cellStart);
    if (ranOps || moves.length > 0) this.last = moves;
    return moves;
  }

  lastCell(): TransferRecord[] {
    return [...this.last];
  }

  all(): TransferRecord[] {
    return [...this.records];
  }

  reset(): void {
    this.records = [];
    this.last = [];
    this.cellStart = 0;
  }
}
