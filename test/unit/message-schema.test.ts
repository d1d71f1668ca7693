// The validator the protocol tests trust: it must accept what the spec allows and name what it refuses.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertValid, contentOf, MsgType, okContent, RawMessage, validateMessage } from '../support/message-schema';

const header = (msgType: string): Record<string, unknown> => ({
  msg_id: 'a1b2',
  session: 'kernel-session',
  username: 'kernel',
  date: '2024-05-01T12:00:00.123456Z',
  msg_type: msgType,
  version: '5.3',
});

const message = (msgType: string, content: unknown): RawMessage => ({
  header: header(msgType),
  parent_header: { ...header('execute_request'), msg_id: 'parent' },
  metadata: {},
  content,
});

const traceback = ['Error: boom', '    at <cell>:1:7'];

/** For each type: a valid content, an invalid one, and the path the problem must name. */
const cases: [MsgType, unknown, unknown, string][] = [
  ['status', { execution_state: 'busy' }, { execution_state: 'working' }, 'content.execution_state'],
  ['execute_input', { code: '1+1', execution_count: 3 }, { code: '1+1' }, 'content.execution_count'],
  ['execute_result', { execution_count: 1, data: { 'text/plain': '2' }, metadata: {} },
    { execution_count: 1, data: { 'text/plain': '2' }, metadata: {}, transient: null }, 'content.transient'],
  ['display_data', { data: { 'text/html': '<b>x</b>' }, metadata: {}, transient: {} },
    { data: { 'text/html': '<b>x</b>' }, metadata: {}, transient: null }, 'content.transient'],
  ['stream', { name: 'stdout', text: 'hi\n' }, { name: 'stdlog', text: 'hi\n' }, 'content.name'],
  ['error', { ename: 'Error', evalue: 'boom', traceback }, { ename: 'Error', evalue: 'boom', traceback: 'x' },
    'content.traceback'],
  ['execute_reply', { status: 'ok', execution_count: 2, user_expressions: {} },
    { status: 'ok', execution_count: '2', user_expressions: {} }, 'content.execution_count'],
  ['kernel_info_reply', {
    status: 'ok', protocol_version: '5.3', implementation: 'tsgpu', implementation_version: '0.1.0',
    language_info: { name: 'typescript', version: '5', mimetype: 'text/typescript', file_extension: '.ts' },
    banner: 'tsgpu', help_links: [{ text: 'docs', url: 'https://example.org' }],
  }, {
    status: 'ok', protocol_version: '5.3', implementation: 'tsgpu', implementation_version: '0.1.0',
    language_info: { version: '5', mimetype: 'text/typescript', file_extension: '.ts' }, banner: 'tsgpu',
  }, 'content.language_info.name'],
  ['complete_reply', { status: 'ok', matches: ['setTimeout'], cursor_start: 3, cursor_end: 7, metadata: {} },
    { status: 'ok', matches: ['setTimeout'], cursor_start: -1, cursor_end: 7, metadata: {} }, 'content.cursor_start'],
  ['inspect_reply', { status: 'ok', found: true, data: { 'text/plain': 'max' }, metadata: {} },
    { status: 'ok', found: 'yes', data: {}, metadata: {} }, 'content.found'],
  ['is_complete_reply', { status: 'incomplete', indent: '  ' }, { status: 'incomplete' }, 'content.indent'],
  ['history_reply', { status: 'ok', history: [[1, 1, 'x = 1'], [1, 2, ['2+2', '4']], [1, 3, ['f()', null]]] },
    { status: 'ok', history: [[1, 'one', 'x = 1']] }, 'content.history[0]'],
  ['comm_info_reply', { status: 'ok', comms: { abc: { target_name: 'jupyter.widget' } } },
    { status: 'ok', comms: { abc: {} } }, 'content.comms.abc'],
  ['comm_close', { comm_id: 'abc', data: {} }, { comm_id: 'abc' }, 'content.data'],
  ['shutdown_reply', { status: 'ok', restart: false }, { status: 'ok', restart: 'no' }, 'content.restart'],
  ['interrupt_reply', { status: 'ok' }, { status: 'done' }, 'content.status'],
];

describe('message schema', () => {
  for (const [type, valid, invalid, path] of cases) {
    test(`${type}: accepts a spec-valid message and names ${path} in an invalid one`, () => {
      assert.deepEqual(validateMessage(message(type, valid)), []);
      const problems = validateMessage(message(type, invalid));
      assert.ok(problems.some((p) => p.startsWith(path)), `expected a problem at ${path}, got ${JSON.stringify(problems)}`);
    });
  }

  test('execute_reply accepts error and aborted and refuses an unknown status', () => {
    const error = { status: 'error', execution_count: 4, ename: 'Error', evalue: 'boom', traceback };
    assert.deepEqual(validateMessage(message('execute_reply', error)), []);
    assert.deepEqual(validateMessage(message('execute_reply', { status: 'aborted' })), []);
    const { ename: _dropped, ...noEname } = error;
    assert.ok(validateMessage(message('execute_reply', noEname)).some((p) => p.startsWith('content.ename')));
    assert.ok(validateMessage(message('execute_reply', { status: 'fine' })).some((p) => p.startsWith('content.status')));
  });

  test('any reply may be a spec error reply, but only with ename, evalue and traceback', () => {
    const error = { status: 'error', ename: 'Error', evalue: 'nope', traceback: [] };
    assert.deepEqual(validateMessage(message('complete_reply', error)), []);
    assert.ok(validateMessage(message('complete_reply', { status: 'error' })).length > 0);
  });

  test('is_complete_reply has four answers and indent only matters for incomplete', () => {
    for (const status of ['complete', 'invalid', 'unknown']) {
      assert.deepEqual(validateMessage(message('is_complete_reply', { status })), []);
    }
    assert.ok(validateMessage(message('is_complete_reply', { status: 'maybe' })).length > 0);
  });

  test('header fields are required with their types', () => {
    for (const field of ['msg_id', 'session', 'username', 'date', 'msg_type', 'version']) {
      const msg = message('status', { execution_state: 'idle' });
      delete (msg.header as Record<string, unknown>)[field];
      assert.ok(validateMessage(msg).some((p) => p.startsWith(`header.${field}`)), `missing ${field} accepted`);
    }
    const badDate = message('status', { execution_state: 'idle' });
    (badDate.header as Record<string, unknown>)['date'] = 'yesterday';
    assert.ok(validateMessage(badDate).some((p) => p.startsWith('header.date')));
    const badVersion = message('status', { execution_state: 'idle' });
    (badVersion.header as Record<string, unknown>)['version'] = 5.3;
    assert.ok(validateMessage(badVersion).some((p) => p.startsWith('header.version')));
  });

  test('parent_header is either {} or a full header', () => {
    const orphan = { ...message('status', { execution_state: 'starting' }), parent_header: {} };
    assert.deepEqual(validateMessage(orphan), []);
    const partial = { ...message('status', { execution_state: 'idle' }), parent_header: { msg_id: 'x' } };
    assert.ok(validateMessage(partial).some((p) => p.startsWith('parent_header')));
  });

  test('metadata must be an object and unknown msg_types are refused', () => {
    const noMetadata = { ...message('status', { execution_state: 'idle' }), metadata: null };
    assert.ok(validateMessage(noMetadata).some((p) => p.startsWith('metadata')));
    assert.ok(validateMessage(message('surprise_reply', {})).some((p) => p.startsWith('header.msg_type')));
  });

  test('assertValid throws with every problem; contentOf and okContent check type and status', () => {
    assert.throws(() => assertValid(message('stream', { name: 'x' })), /content\.name[\s\S]*content\.text/);
    assert.doesNotThrow(() => assertValid(message('stream', { name: 'stdout', text: '' })));
    assert.equal(contentOf(message('stream', { name: 'stderr', text: 'e' }), 'stream').name, 'stderr');
    assert.throws(() => contentOf(message('stream', { name: 'stderr', text: 'e' }), 'error'), /expected a error/);
    const failed = message('inspect_reply', { status: 'error', ename: 'E', evalue: 'v', traceback: [] });
    assert.throws(() => okContent(failed, 'inspect_reply'), /status ok/);
  });
});
