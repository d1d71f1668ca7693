// Who put each buffer where it is: the user's explicit moves (x.to, model.to) and the policy's
// moves for ops. The hints read it to never advise undoing the user's move, to say when the policy
// undid one, and to name the input that drew an op to a device and who had put that input there.
import type { MoveAnchor, ReversedMove } from './device-control';
import type { BufferInfo } from './engine-internals';
import type { MoveEvent, OpAnchor } from './placement';

interface Placed {
  device: string;
  operation: string;
  cell: number;
}

export class PlacementIntent {
  /** Where the user last moved each buffer explicitly, and with what: an implicit move does not change that intent. */
  private readonly byUser = new WeakMap<BufferInfo, Placed>();
  /** Where the policy last moved each buffer, for what call or op. */
  private readonly byPolicy = new WeakMap<BufferInfo, Placed>();

  /** The user's explicit placement of a buffer, when the user put it where it is now or was. */
  explicit(buffer: BufferInfo): Placed | null {
    return this.byUser.get(buffer) ?? null;
  }

  userPlaced(buffer: BufferInfo, device: string, operation: string, cell: number): void {
    this.byUser.set(buffer, { device, operation, cell });
  }

  policyPlaced(buffer: BufferInfo, device: string, operation: string, cell: number): void {
    this.byPolicy.set(buffer, { device, operation, cell });
  }

  /** A variable's new buffer (assign: an optimizer's step gives each weight a new one) keeps what was known of where its old one was put. */
  carry(before: BufferInfo, after: BufferInfo): void {
    for (const placements of [this.byUser, this.byPolicy]) {
      const placed = placements.get(before);
      if (placed !== undefined && !placements.has(after)) placements.set(after, placed);
    }
  }

  /** The input that drew a policy's move's op to `device`, and who had put it there. */
  anchor(anchor: OpAnchor, device: string, currentDevice: string): MoveAnchor {
    const user = this.byUser.get(anchor.buffer);
    const policy = this.byPolicy.get(anchor.buffer);
    const placedBy = user?.device === device ? { by: 'user' as const, operation: user.operation, cell: user.cell }
      : policy?.device === device ? { by: 'policy' as const, operation: policy.operation, cell: policy.cell } : null;
    return { name: anchor.name, placedBy, onCurrentDevice: device === currentDevice };
  }

  /** For an implicit move, the explicit move it undid, if any. */
  reversal(event: MoveEvent, currentDevice: string): ReversedMove | null {
    if (!event.buffer || event.explicit) return null;
    const placed = this.byUser.get(event.buffer);
    if (!placed || placed.device !== event.from) return null;
    return { operation: placed.operation, cell: placed.cell, toCurrentDevice: event.to === currentDevice };
  }
}
