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
  return spawn(process.execPath, [MAIN, ...args], {
    cwd: options.cwd ?? REPO,
    env: { ...process.env, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '', ...options.env },
  });
}

/** Collects a child's stdout as JSON log lines and resolves when one matches. */
export function waitForLog(
  child: ChildProcessWithoutNullStreams,
  match: (line: Record<string, unknown>) => boolean,
  timeoutMs = 20_000,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`log line not seen in time; stderr: ${stderr}`)), timeoutMs);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const onData = (d: Buffer): void => {
      buffer += d.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const text = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          const line = JSON.parse(text) as Record<string, unknown>;
          if (match(line)) {
            clearTimeout(timer);
            child.stdout.off('data', onData);
            resolve(line);
            return;
          }
        } catch {
          // not a JSON line
        }
      }
    };
    child.stdout.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before the log line; stderr: ${stderr}`));
    });
  });
}
