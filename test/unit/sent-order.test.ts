// Which of two messages one client sent first, from the header dates it stamped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sentAt, sentBefore } from '../../kernel/protocol/sent-order';

const from = (session: string, date: unknown) => ({ header: { session, date } });

test('dates are read to the microsecond, with their zone, and anything else is unreadable', () => {
  assert.deepEqual(sentAt('2026-12-02T10:00:00.123456Z'), { micros: Date.UTC(2026, 11, 2, 10) * 1000 + 123_456, digits: 6 });
  assert.deepEqual(sentAt('2026-12-02T11:00:00.5+01:00'), { micros: Date.UTC(2026, 11, 2, 10) * 1000 + 500_000, digits: 1 });
  // Naive dates are UTC, as jupyter_client stamped them before it stamped zones.
  assert.deepEqual(sentAt('2026-12-02T10:00:00'), { micros: Date.UTC(2026, 11, 2, 10) * 1000, digits: 0 });
  // Nanoseconds are cut to microseconds.
  assert.equal(sentAt('2026-12-02T10:00:00.123456789Z')?.micros, Date.UTC(2026, 11, 2, 10) * 1000 + 123_456);
  for (const bad of ['', 'yesterday', '2026-13-45T99:00:00Z', 5, null, { nested: true }]) assert.equal(sentAt(bad), null, String(bad));
});

test('one session, strictly earlier at the coarser precision: before; anything else is not known', () => {
  assert.equal(sentBefore(from('s', '2026-12-02T10:00:00.000400Z'), from('s', '2026-12-02T10:00:00.000500Z')), true);
  assert.equal(sentBefore(from('s', '2026-12-02T10:00:00.000500Z'), from('s', '2026-12-02T10:00:00.000400Z')), false);
  assert.equal(sentBefore(from('s', '2026-12-02T10:00:00.000500Z'), from('s', '2026-12-02T10:00:00.000500Z')), false);
  // 400 µs against a milliseconds-only date in the same millisecond: the order is unknown.
  assert.equal(sentBefore(from('s', '2026-12-02T10:00:00.000400Z'), from('s', '2026-12-02T10:00:00.000Z')), false);
  assert.equal(sentBefore(from('s', '2026-12-02T10:00:00.000Z'), from('s', '2026-12-02T10:00:00.001Z')), true);
  // Two sessions are two clients, whose clocks may differ.
  assert.equal(sentBefore(from('a', '2026-12-02T09:00:00Z'), from('b', '2026-12-02T10:00:00Z')), false);
  assert.equal(sentBefore(from('', '2026-12-02T09:00:00Z'), from('', '2026-12-02T10:00:00Z')), false);
  assert.equal(sentBefore(from('s', 'soon'), from('s', '2026-12-02T10:00:00Z')), false);
});
