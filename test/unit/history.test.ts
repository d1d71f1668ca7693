import assert from 'node:assert/strict';
import { test } from 'node:test';
import { History, SESSION_NUMBER } from '../../kernel/server/history';

function filled(): History {
  const history = new History();
  ['a = 1', 'a + 1', 'console.log(a)', 'a + 1'].forEach((input, i) => history.record(i + 1, input));
  history.recordOutput(2, '2');
  return history;
}

test('tail returns the last n inputs of this session', () => {
  assert.deepEqual(filled().query({ hist_access_type: 'tail', output: false, n: 2 }),
    [[SESSION_NUMBER, 3, 'console.log(a)'], [SESSION_NUMBER, 4, 'a + 1']]);
});

test('range is [start, stop) and session 0 means the current session', () => {
  assert.deepEqual(filled().query({ hist_access_type: 'range', output: false, session: 0, start: 2, stop: 4 }),
    [[SESSION_NUMBER, 2, 'a + 1'], [SESSION_NUMBER, 3, 'console.log(a)']]);
  assert.deepEqual(filled().query({ hist_access_type: 'range', output: false, session: 99, start: 1 }), []);
});

test('output pairs each input with its text/plain result', () => {
  assert.deepEqual(filled().query({ hist_access_type: 'range', output: true, start: 1, stop: 3 }),
    [[SESSION_NUMBER, 1, ['a = 1', null]], [SESSION_NUMBER, 2, ['a + 1', '2']]]);
});

test('search matches a glob and unique keeps the latest of duplicates', () => {
  const history = filled();
  assert.deepEqual(history.query({ hist_access_type: 'search', output: false, pattern: 'a +*' }),
    [[SESSION_NUMBER, 2, 'a + 1'], [SESSION_NUMBER, 4, 'a + 1']]);
  assert.deepEqual(history.query({ hist_access_type: 'search', output: false, pattern: 'a +*', unique: true }),
    [[SESSION_NUMBER, 4, 'a + 1']]);
  assert.deepEqual(history.query({ hist_access_type: 'search', output: false, pattern: 'console.?og(*)' }),
    [[SESSION_NUMBER, 3, 'console.log(a)']]);
});
