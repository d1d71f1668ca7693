import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectionFileWarning, endpoint, parseConnectionInfo } from '../../kernel/transport/connection-file';

const ports = { shell_port: 1, iopub_port: 2, stdin_port: 3, control_port: 4, hb_port: 5 };

test('a jupyter_client connection file is read with its transport, ip, key and ports', () => {
  const info = parseConnectionInfo(JSON.stringify({ ...ports, ip: '127.0.0.1', transport: 'tcp', key: 'k', signature_scheme: 'hmac-sha256', kernel_name: 'tsgpu' }), 'cf.json');
  assert.equal(endpoint(info, 'shell_port'), 'tcp://127.0.0.1:1');
  assert.equal(endpoint(info, 'hb_port'), 'tcp://127.0.0.1:5');
  assert.equal(info.key, 'k');
});

test('ipc endpoints are named ip-port, as jupyter_client names them', () => {
  const info = parseConnectionInfo(JSON.stringify({ ...ports, ip: '/tmp/kernel', transport: 'ipc' }), 'cf.json');
  assert.equal(endpoint(info, 'control_port'), 'ipc:///tmp/kernel-4');
});

test('a bad connection file gets an error that names the file and the field', () => {
  assert.throws(() => parseConnectionInfo('{', 'cf.json'), /connection file cf\.json is not valid JSON/);
  assert.throws(() => parseConnectionInfo(JSON.stringify({ ...ports, shell_port: 'x' }), 'cf.json'), /cf\.json: shell_port must be a port number/);
  assert.throws(() => parseConnectionInfo(JSON.stringify({ ...ports, transport: 'udp' }), 'cf.json'), /transport must be "tcp" or "ipc"/);
});

test('a connection file other users can read gets a warning naming the fix', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsgpu-cf-'));
  try {
    const file = path.join(dir, 'kernel.json');
    writeFileSync(file, '{}', { mode: 0o644 });
    chmodSync(file, 0o644);
    assert.match(connectionFileWarning(file) ?? '', /can be read by other users \(mode 644\).*chmod 600/);
    chmodSync(file, 0o600);
    assert.equal(connectionFileWarning(file), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
