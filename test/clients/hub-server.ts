// A JupyterHub for client tests: Debian's jupyterhub 3.0 on 127.0.0.1 with configurable-http-proxy
// from npm, DummyAuthenticator and SimpleLocalProcessSpawner (every user's single-user server runs
// as this Unix user, in a home folder of its own under the temp dir). The tsgpu kernelspec sits in
// one shared prefix that every user's server searches, as a system-wide install would. A service
// token with admin scopes starts servers and hands out user tokens, as an admin script would.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, isolatedJupyterDirs, PYTHON } from './notebook-server';
import { freePort } from '../support/free-port';
import { sleep } from '../support/time';

export const JUPYTERHUB = '/usr/bin/jupyterhub';
export const SINGLEUSER = '/usr/bin/jupyterhub-singleuser';

export interface Hub {
  /** The proxy's public URL, e.g. http://127.0.0.1:PORT/ */
  url: string;
  tmp: string;
  child: ChildProcess;
  /** The admin service's token (scopes admin:users, admin:servers, tokens). */
  adminToken: string;
  log(): string;
}

/** The proxy's entry script: the hub runs it with this Node, whatever `node` the PATH holds. */
export function proxyScript(): string {
  const manifest = require.resolve('configurable-http-proxy/package.json');
  const bin = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { bin: Record<string, string> }).bin['configurable-http-proxy'];
  if (bin === undefined) throw new Error(`${manifest} names no configurable-http-proxy bin`);
  return path.join(path.dirname(manifest), bin);
}

const py = (value: unknown): string => JSON.stringify(value);

/** Writes the hub's config, installs the kernelspec into the shared prefix, starts the hub and waits for its API (60 s at most). */
export async function startHub(users: string[]): Promise<Hub> {
  const { tmp, env } = isolatedJupyterDirs('jupyterhub');
  const shared = path.join(tmp, 'system');
  const install = spawnSync(process.execPath, [CLI, 'install', '--prefix', shared], { env, encoding: 'utf8', timeout: 30_000 });
  if (install.status !== 0) throw new Error(`tsgpu install --prefix ${shared} failed (${install.status}):\n${install.stdout}\n${install.stderr}`);
  for (const user of users) fs.mkdirSync(path.join(tmp, 'home', user), { recursive: true });
  const [port, apiPort, hubPort] = [await freePort(), await freePort(), await freePort()];
  const adminToken = randomBytes(24).toString('hex');
  const config = [
    'c = get_config()',
    `c.JupyterHub.bind_url = ${py(`http://127.0.0.1:${port}`)}`,
    `c.JupyterHub.hub_bind_url = ${py(`http://127.0.0.1:${hubPort}`)}`,
    `c.ConfigurableHTTPProxy.api_url = ${py(`http://127.0.0.1:${apiPort}`)}`,
    `c.ConfigurableHTTPProxy.command = ${py([process.execPath, proxyScript()])}`,
    `c.ConfigurableHTTPProxy.pid_file = ${py(path.join(tmp, 'proxy.pid'))}`,
    `c.JupyterHub.db_url = ${py(`sqlite:///${path.join(tmp, 'hub.sqlite')}`)}`,
    `c.JupyterHub.cookie_secret_file = ${py(path.join(tmp, 'cookie_secret'))}`,
    `c.JupyterHub.pid_file = ${py(path.join(tmp, 'hub.pid'))}`,
    "c.JupyterHub.authenticator_class = 'dummy'",
    `c.Authenticator.allowed_users = set(${py(users)})`,
    "c.JupyterHub.spawner_class = 'simple'",
    `c.SimpleLocalProcessSpawner.home_dir_template = ${py(path.join(tmp, 'home', '{username}'))}`,
    `c.Spawner.cmd = [${py(SINGLEUSER)}]`,
    // Harmless for other users; root needs it (CI runs as root).
    "c.Spawner.args = ['--allow-root']",
    // The shared prefix stands in for /usr/local/share/jupyter; Mesa's shader cache is shared to spare lavapipe's compiles.
    `c.Spawner.environment = ${py({ JUPYTER_PATH: path.join(shared, 'share', 'jupyter'), MESA_SHADER_CACHE_DIR: env['MESA_SHADER_CACHE_DIR'] ?? '' })}`,
    'c.Spawner.start_timeout = 120',
    'c.Spawner.http_timeout = 120',
    `c.JupyterHub.services = [{'name': 'tester', 'api_token': ${py(adminToken)}}]`,
    "c.JupyterHub.load_roles = [{'name': 'tester', 'scopes': ['admin:users', 'admin:servers', 'tokens'], 'services': ['tester']}]",
  ].join('\n');
  const configFile = path.join(tmp, 'jupyterhub_config.py');
  fs.writeFileSync(configFile, `${config}\n`);
  const child = spawn(PYTHON, [JUPYTERHUB, '-f', configFile], { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-128 * 1024);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const hub: Hub = { url: `http://127.0.0.1:${port}/`, tmp, child, adminToken, log: () => output };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`jupyterhub exited (${child.exitCode ?? child.signalCode}):\n${output}`);
    try {
      const response = await fetch(`${hub.url}hub/api/`);
      if (response.ok) return hub;
    } catch {
      // the proxy is not listening yet
    }
    await sleep(200);
  }
  await stopHub(hub);
  throw new Error(`jupyterhub did not answer within 60 s:\n${output}`);
}

/** A call to the hub's REST API with the admin service's token; the parsed JSON reply (or null), failing on a status that is not 2xx. */
export async function hubApi(hub: Hub, method: string, route: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${hub.url}hub/api/${route}`, {
    method, headers: { Authorization: `token ${hub.adminToken}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} /hub/api/${route}: ${response.status} ${text}\n--- hub log (tail) ---\n${hub.log().slice(-4000)}`);
  return text === '' ? null : JSON.parse(text);
}

interface UserModel {
  servers?: Record<string, { ready: boolean; pending: string | null; state?: { pid?: number } }>;
}

/** Starts the user's default server and waits until the hub says it is ready; its pid. */
export async function startUserServer(hub: Hub, user: string, timeoutMs = 120_000): Promise<number> {
  await hubApi(hub, 'POST', `users/${user}/server`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const model = await hubApi(hub, 'GET', `users/${user}`) as UserModel;
    const server = model.servers?.[''];
    if (server?.ready && typeof server.state?.pid === 'number') return server.state.pid;
    await sleep(250);
  }
  throw new Error(`${user}'s server was not ready within ${timeoutMs} ms:\n${hub.log().slice(-4000)}`);
}

/** A new API token of the user's (the scopes a user's own token inherits: access to their own server). */
export async function userToken(hub: Hub, user: string): Promise<string> {
  const reply = await hubApi(hub, 'POST', `users/${user}/tokens`, { note: 'tsgpu client test' }) as { token?: unknown };
  if (typeof reply.token !== 'string') throw new Error(`no token in ${JSON.stringify(reply)}`);
  return reply.token;
}

/** Pids of a process's living descendants (children first), read from /proc. */
export function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || fields[0] === 'X') continue;
      const parent = Number(fields[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const walk = (pid: number): void => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}

/** Pids of the `tsgpu snapshot --dir DIR` builds running with DIR under `root` (whoever their parent is by now). */
function snapshotBuildsUnder(root: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const dir = argv[argv.indexOf('--dir') + 1];
      if (argv.includes('snapshot') && dir !== undefined && argv.includes('--dir') && dir.startsWith(root + path.sep)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * SIGTERM to the hub (it stops the users' servers, they shut their kernels down, and it stops the
 * proxy), SIGKILL after 30 s; then kills, by pid, whatever the hub started that is still alive and
 * returns those pids (a clean stop returns none).
 */
export async function stopHub(hub: Hub): Promise<number[]> {
  const { child } = hub;
  const started = child.pid === undefined ? [] : descendantsOf(child.pid);
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), 30_000);
    })]);
    clearTimeout(timer);
    if (!gone) {
      child.kill('SIGKILL');
      await exited;
    }
  }
  const alive = (pid: number): boolean => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return !['Z', 'X'].includes(stat.charAt(stat.lastIndexOf(')') + 2));
    } catch {
      return false;
    }
  };
  // A user's kernel that started without her own snapshot builds it in a detached process meant to
  // outlive the kernel (README, start-up snapshot): not a leftover, but it writes into her home, which
  // the caller removes next. It is stopped midway, which the next build is made to survive.
  const builds = snapshotBuildsUnder(hub.tmp);
  for (const pid of builds) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // finished meanwhile
    }
  }
  let leftovers = started.filter((pid) => alive(pid) && !builds.includes(pid));
  for (let i = 0; i < 25 && leftovers.length > 0; i++) {
    await sleep(200);
    leftovers = leftovers.filter(alive);
  }
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  // A killed process may still be closing files in the hub's folders; the caller removes them next.
  for (let i = 0; i < 25 && [...leftovers, ...builds].some(alive); i++) await sleep(200);
  return leftovers;
}
