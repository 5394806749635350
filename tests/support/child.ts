import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { logEntry } from './logs.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface ChildServer {
  baseUrl: string;
  process: ChildProcess;
  output: string[];
}

/** Starts `src/main.ts` as a child process on an ephemeral port and waits until it listens (`unset`: variables of this process it does not inherit). */
export async function startChildServer(env: Record<string, string>, unset: readonly string[] = []): Promise<ChildServer> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !unset.includes(name)));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...inherited, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output.join('')}`)), 30_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output.push(chunk);
      const listening = logEntry(output.join(''), 'listening');
      if (listening) {
        clearTimeout(timer);
        resolve(String(listening.url).replace('localhost', '127.0.0.1'));
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output.join('')}`));
    });
  });
  return { baseUrl, process: child, output };
}

export async function stopChild(child: ChildServer, signal: NodeJS.Signals): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  const exited = new Promise((resolve) => child.process.once('exit', resolve));
  child.process.kill(signal);
  await exited;
}

/**
 * A token for the `admin` a child server created from CRM_ADMIN_PASSWORD = `initial`. The first time, it logs in
 * and changes the password to `<initial>-changed`, as the service demands; later (after a restart), it logs in
 * with that.
 */
export async function adminSession(baseUrl: string, initial: string): Promise<string> {
  const login = async (password: string) =>
    fetch(`${baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
  const changed = await login(`${initial}-changed`);
  if (changed.status === 200) return ((await changed.json()) as { token: string }).token;
  const first = await login(initial);
  if (first.status !== 200) throw new Error(`admin login failed: ${first.status} ${await first.text()}`);
  const { token } = (await first.json()) as { token: string };
  const change = await fetch(`${baseUrl}/api/v1/auth/change-password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ currentPassword: initial, newPassword: `${initial}-changed` }),
  });
  if (change.status !== 200) throw new Error(`admin password change failed: ${change.status} ${await change.text()}`);
  return ((await change.json()) as { token: string }).token;
}
