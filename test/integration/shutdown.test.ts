import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Pool } from 'undici';
import { describe, expect, it } from 'vitest';
import { review, tempDir } from '../helpers/server.ts';
import { logHistory, spawnCli, waitForLog } from '../helpers/cli.ts';

async function startServe(extra: string[]): Promise<{ child: ReturnType<typeof spawnCli>; port: number; ca: Buffer; exited: Promise<number | null> }> {
  const certDir = tempDir();
  const child = spawnCli(['serve', '--port', '0', '--host', '127.0.0.1', '--cert-dir', certDir, ...extra]);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const started = await waitForLog(child, (l) => l.event === 'server.started');
  return { child, port: (started.address as { port: number }).port, ca: readFileSync(join(certDir, 'ca.crt')), exited };
}

/** One raw HTTP/1.1 request on a new TLS connection; resolves with the whole response text. */
function rawGet(port: number, ca: Buffer, path: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const s = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    });
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('end', () => resolve(text));
    s.on('close', () => resolve(text));
    s.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
  });
}

describe('netfence serve: SIGTERM', () => {
  it('drains (not ready, still answering, Connection: close), then stops accepting, finishes the request in flight and exits 0', async () => {
    const { child, port, ca, exited } = await startServe(['--shutdown-delay', '1500ms']);

    // A request whose body is half sent when SIGTERM arrives.
    const body = JSON.stringify(review({ kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }));
    const uid = (JSON.parse(body).request as { uid: string }).uid;
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    let response = '';
    socket.on('data', (d: Buffer) => (response += d.toString()));
    const half = Math.floor(body.length / 2);
    socket.write(
      `POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, half)}`,
    );
    await new Promise((r) => setTimeout(r, 200));

    const stopping = waitForLog(child, (l) => l.event === 'server.stopping');
    const signalled = Date.now();
    child.kill('SIGTERM');
    await stopping;

    // During the drain new connections are still accepted and answered: not ready, and told
    // to close so that the client goes elsewhere.
    const ready = await rawGet(port, ca, '/readyz');
    expect(ready).toMatch(/^HTTP\/1\.1 503 /);
    expect(ready).toMatch(/\r\nconnection: close\r\n/i);
    expect(ready).toContain('"notShuttingDown":false');
    expect((await rawGet(port, ca, '/healthz'))).toMatch(/^HTTP\/1\.1 200 /);

    // After the drain nobody new gets in.
    await waitForLog(child, (l) => l.event === 'server.closing');
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(1400);
    const attempt = (): Promise<string> =>
      new Promise<string>((resolve) => {
        const s = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
          s.destroy();
          resolve('connected');
        });
        s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      });
    const outcomes: string[] = [];
    for (let i = 0; i < 40 && outcomes.at(-1) !== 'ECONNREFUSED'; i++) {
      outcomes.push(await attempt());
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(outcomes.at(-1)).toBe('ECONNREFUSED');

    // The request in flight is still answered, and its connection closed.
    socket.write(body.slice(half));
    const code = await exited;
    expect(response).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(response).toContain(`"uid":"${uid}"`);
    expect(response).toContain('"allowed":true');
    expect(response).toMatch(/\r\nconnection: close\r\n/i);
    expect(code).toBe(0);
    const events = logHistory(child).lines.map((l) => l.event);
    expect(events).toContain('server.stopped');
    expect(events).not.toContain('server.stop_timeout');
  });

  it('loses no request of a closed-loop load on busy keep-alive connections across SIGTERM', async () => {
    const delayMs = 2500;
    const { child, port, ca, exited } = await startServe(['--shutdown-delay', `${delayMs}ms`]);
    const connections = 16;
    const pool = new Pool(`https://127.0.0.1:${port}`, { connections, pipelining: 1, connect: { ca, servername: 'localhost' } });
    let stopAt = Infinity;
    let signalledAt = Infinity;
    const failures: string[] = [];
    let before = 0;
    let after = 0;
    let afterWithClose = 0;
    const worker = async (): Promise<void> => {
      while (Date.now() < stopAt) {
        const body = review({ kind: { group: 'apps', version: 'v1', kind: 'Deployment' } });
        const uid = (body.request as { uid: string }).uid;
        const startedAt = Date.now();
        try {
          const res = await pool.request({ path: '/validate', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
          const text = await res.body.text();
          if (res.statusCode !== 200 || !text.includes(`"uid":"${uid}"`)) failures.push(`${res.statusCode} ${text.slice(0, 200)}`);
          if (startedAt > signalledAt) {
            after += 1;
            if (String(res.headers.connection).toLowerCase() === 'close') afterWithClose += 1;
          } else {
            before += 1;
          }
        } catch (err) {
          failures.push(`${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`);
        }
      }
    };
    const workers = Array.from({ length: connections }, worker);
    await new Promise((r) => setTimeout(r, 700));
    const stopping = waitForLog(child, (l) => l.event === 'server.stopping');
    child.kill('SIGTERM');
    await stopping;
    signalledAt = Date.now();
    // Clients keep sending through most of the drain window, as the API server does until the
    // endpoint removal reaches it; then they stop, and the server must close without a loss.
    stopAt = signalledAt + delayMs * 0.6;
    await Promise.all(workers);
    await pool.close();
    const code = await exited;

    expect(failures).toEqual([]);
    expect(before).toBeGreaterThan(connections);
    expect(after).toBeGreaterThan(connections);
    // Every answer to a request sent during the drain told the client to close.
    expect(afterWithClose).toBe(after);
    expect(code).toBe(0);
    expect(logHistory(child).lines.map((l) => l.event)).not.toContain('server.stop_timeout');
  });

  it('refuses a bad --shutdown-delay with exit 2', async () => {
    const child = spawnCli(['serve', '--port', '0', '--shutdown-delay', 'soon']);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(logHistory(child).stderr).toMatch(/--shutdown-delay soon: expected a duration/);
  });
});
