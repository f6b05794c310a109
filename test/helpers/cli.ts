import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Runs the CLI from source with the Node that runs the tests (Node 24 strips the types). */
export function runCli(args: string[], options: { cwd?: string; input?: string } = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    cwd: options.cwd ?? REPO,
    encoding: 'utf8',
    input: options.input ?? '',
    timeout: 60_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function spawnCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: options.cwd ?? REPO,
    env: { ...process.env, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '', ...options.env },
  });
  logHistory(child);
  return child;
}

interface LogHistory {
  lines: Array<Record<string, unknown>>;
  waiters: Array<() => void>;
  stderr: string;
  exited: boolean;
}
const histories = new WeakMap<ChildProcessWithoutNullStreams, LogHistory>();

/** Every JSON log line the child has written so far, collected from its start. */
export function logHistory(child: ChildProcessWithoutNullStreams): LogHistory {
  let h = histories.get(child);
  if (h) return h;
  const history: LogHistory = { lines: [], waiters: [], stderr: '', exited: false };
  histories.set(child, history);
  let buffer = '';
  const wake = (): void => {
    for (const w of history.waiters.splice(0)) w();
  };
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        history.lines.push(JSON.parse(text) as Record<string, unknown>);
      } catch {
        // not a JSON line
      }
    }
    wake();
  });
  child.stderr.on('data', (d: Buffer) => (history.stderr += d.toString()));
  child.on('exit', () => {
    history.exited = true;
    wake();
  });
  h = history;
  return h;
}

/** Resolves with the first log line (from the child's start) that matches. */
export async function waitForLog(
  child: ChildProcessWithoutNullStreams,
  match: (line: Record<string, unknown>) => boolean,
  timeoutMs = 20_000,
): Promise<Record<string, unknown>> {
  const history = logHistory(child);
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = history.lines.find(match);
    if (found) return found;
    if (history.exited) throw new Error(`exited before the log line; stderr: ${history.stderr}`);
    const left = end - Date.now();
    if (left <= 0) throw new Error(`log line not seen in time; stderr: ${history.stderr}`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, left);
      history.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
