// Reads and checks a Jupyter connection file (the spec's "Connection files").
import { readFileSync, statSync } from 'node:fs';

export interface ConnectionInfo {
  transport: 'tcp' | 'ipc';
  ip: string;
  key: string;
  signature_scheme: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
}

const PORTS = ['shell_port', 'iopub_port', 'stdin_port', 'control_port', 'hb_port'] as const;
export type PortName = (typeof PORTS)[number];

export function parseConnectionInfo(text: string, source: string): ConnectionInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`connection file ${source} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null) throw new Error(`connection file ${source} is not a JSON object`);
  const fields = raw as Record<string, unknown>;
  const transport = fields['transport'] ?? 'tcp';
  if (transport !== 'tcp' && transport !== 'ipc') throw new Error(`connection file ${source}: transport must be "tcp" or "ipc", got ${JSON.stringify(transport)}`);
  const info: ConnectionInfo = {
    transport,
    ip: typeof fields['ip'] === 'string' ? fields['ip'] : '127.0.0.1',
    key: typeof fields['key'] === 'string' ? fields['key'] : '',
    signature_scheme: typeof fields['signature_scheme'] === 'string' ? fields['signature_scheme'] : 'hmac-sha256',
    shell_port: 0, iopub_port: 0, stdin_port: 0, control_port: 0, hb_port: 0,
  };
  for (const name of PORTS) {
    const port = fields[name];
    if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new Error(`connection file ${source}: ${name} must be a port number (1-65535), got ${JSON.stringify(port)}`);
    }
    info[name] = port;
  }
  return info;
}

/** The file holds the HMAC key: anyone who can read it can run code in this kernel. */
export function connectionFileWarning(file: string): string | null {
  try {
    const mode = statSync(file).mode;
    return (mode & 0o077) !== 0
      ? `connection file ${file} can be read by other users (mode ${(mode & 0o777).toString(8)}): anyone who reads its key can run code in this kernel. chmod 600 it.`
      : null;
  } catch {
    return null;
  }
}

export function readConnectionFile(file: string): ConnectionInfo {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read connection file ${file}: ${(error as Error).message}`);
  }
  return parseConnectionInfo(text, file);
}

/** The ZeroMQ endpoint for one channel: `tcp://ip:port`, or `ipc://ip-port` as jupyter_client names them. */
export function endpoint(info: ConnectionInfo, port: PortName): string {
  return info.transport === 'tcp' ? `tcp://${info.ip}:${info[port]}` : `ipc://${info.ip}-${info[port]}`;
}
