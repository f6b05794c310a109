import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { review, tempDir } from '../helpers/server.ts';
import { logHistory, spawnCli, waitForLog } from '../helpers/cli.ts';

describe('netfence serve: SIGTERM', () => {
  it('stops accepting, finishes the request in flight, and exits 0', async () => {
    const certDir = tempDir();
    const child = spawnCli(['serve', '--port', '0', '--host', '127.0.0.1', '--cert-dir', certDir]);
    const started = await waitForLog(child, (l) => l.event === 'server.started');
    const port = (started.address as { port: number }).port;
    const ca = readFileSync(join(certDir, 'ca.crt'));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));


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
    child.kill('SIGTERM');
    await stopping;

    // Nobody new gets in: a connection made in the few ticks before the listener closes is
    // reset, never served, and from then on connections are refused.
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
    expect(outcomes).not.toContain('connected');
    expect(outcomes.at(-1)).toBe('ECONNREFUSED');

    socket.write(body.slice(half));
    const code = await exited;
    expect(response).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(response).toContain(`"uid":"${uid}"`);
    expect(response).toContain('"allowed":true');
    // The connection is told to close, so shutdown ends with the request, not at the deadline.
    expect(response).toMatch(/\r\nconnection: close\r\n/i);
    expect(code).toBe(0);
    const events = logHistory(child).lines.map((l) => l.event);
    expect(events).toContain('server.stopped');
    expect(events).not.toContain('server.stop_timeout');
  });
});
