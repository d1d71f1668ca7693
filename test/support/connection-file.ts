// A Jupyter connection file the way a launcher writes it: five free TCP ports on 127.0.0.1,
// a random key, hmac-sha256.
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

export interface ConnectionInfo {
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  ip: string;
  transport: 'tcp';
  signature_scheme: string;
  key: string;
  kernel_name: string;
}

function listenOnFreePort(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** Holds all listeners open until every port is chosen, so the ports are distinct. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOnFreePort());
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

export async function writeConnectionFile(
  dir: string,
  options: { key?: string } = {},
): Promise<{ file: string; info: ConnectionInfo }> {
  const [shell_port, iopub_port, stdin_port, control_port, hb_port] = (await freePorts(5)) as [
    number, number, number, number, number,
  ];
  const info: ConnectionInfo = {
    shell_port, iopub_port, stdin_port, control_port, hb_port,
    ip: '127.0.0.1',
    transport: 'tcp',
    signature_scheme: 'hmac-sha256',
    key: options.key ?? randomBytes(32).toString('hex'),
    kernel_name: 'tsgpu',
  };
  const file = path.join(dir, `kernel-${randomUUID()}.json`);
  await writeFile(file, JSON.stringify(info, null, 1), { mode: 0o600 });
  return { file, info };
}
