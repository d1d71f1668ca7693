// Staging set-up that ran while a chunk of the same move was on its way through the GPU's queue:
// Dawn makes a buffer on the thread, but the GPU works on its own meanwhile, so the set-up held
// the move up only where no chunk of it was on the GPU (on lavapipe a 16 MiB upload's first chunk
// landed 98 ms after its submit, its second buffer made in between; a read's chunks land in a few
// ms, and its later buffers' set-up is then all wait). Known once the chunks' landing times are in
// (the cell's end); a chunk whose landing time is not known claims nothing.
import type { ChunkSent } from '../transfer/move-notes';
import type { Span } from './host-away';
import { intersect, unionMs } from './intervals';

/** From each chunk's submit to its landing on the GPU's clock, where known. */
export function copyingSpans(sent: readonly ChunkSent[]): Span[] {
  return sent.flatMap(({ submitted, landed }) => (landed !== null && Number.isFinite(landed.at) && landed.at > submitted ? [{ start: submitted, end: landed.at }] : []));
}

/**
 * Of the set-up counted as the move's wait (`setup`), the time a chunk of the move was being
 * copied meanwhile: copy, not wait. Time the thread was away (`away`, counted as host busy
 * already) is left where it is.
 */
export function setupWhileCopyingMs(setup: readonly Span[], away: readonly Span[], sent: readonly ChunkSent[]): number {
  const hidden = intersect(setup, copyingSpans(sent));
  return Math.max(0, unionMs(hidden) - unionMs(intersect(hidden, away)));
}
