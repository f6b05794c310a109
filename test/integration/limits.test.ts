import { connect as netConnect } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/server/limits.ts';
import { review, startTestServer, type TestServer } from '../helpers/server.ts';

/** Opens a TLS connection and resolves once the handshake is done. */
function tlsConnection(server: TestServer): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: server.port, ca: server.ca, servername: 'localhost' }, () => resolve(s));
    s.on('error', reject);
  });
}

/** Resolves with the time from now until the socket closes, and what the server wrote. */
function closedAfter(socket: { on(e: 'close' | 'data', f: (d?: Buffer) => void): unknown }): Promise<{ ms: number; text: string }> {
  const t0 = Date.now();
  let text = '';
  socket.on('data', (d) => (text += d?.toString() ?? ''));
  return new Promise((resolve) => socket.on('close', () => resolve({ ms: Date.now() - t0, text })));
}

describe('timeouts that apply', () => {
  const limits = { headersTimeoutMs: 600, requestTimeoutMs: 1_200, handshakeTimeoutMs: 600, keepAliveTimeoutMs: 800 };
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ limits });
  });
  afterAll(async () => server.close());

  it('the defaults are what the README says, and Node got them at creation', async () => {
    expect(DEFAULT_LIMITS).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 95_000, handshakeTimeoutMs: 10_000, maxConnections: 1_000 });
    const s = server.app.server as unknown as Record<string, number>;
    expect(s.headersTimeout).toBe(limits.headersTimeoutMs);
    expect(s.requestTimeout).toBe(limits.requestTimeoutMs);
    // Node's default (60 s) above the request timeout is what used to disable it.
    expect(s.headersTimeout).toBeLessThanOrEqual(s.requestTimeout!);
  });

  it('a body sent byte by byte is cut at the request timeout (408)', async () => {
    const socket = await tlsConnection(server);
    const closed = closedAfter(socket);
    socket.write('POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{');
    const drip = setInterval(() => socket.writable && socket.write(' '), 100);
    const { ms, text } = await closed;
    clearInterval(drip);
    // Node checks deadlines on an interval (a quarter of the headers timeout here).
    expect(ms).toBeLessThan(limits.requestTimeoutMs + 1_000);
    expect(ms).toBeGreaterThanOrEqual(limits.requestTimeoutMs - 200);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('headers sent slowly, or none at all after the handshake, are cut at the headers timeout', async () => {
    const silent = await tlsConnection(server);
    const slow = await tlsConnection(server);
    const [a, b] = [closedAfter(silent), closedAfter(slow)];
    slow.write('POST /validate HTTP/1.1\r\n');
    const drip = setInterval(() => slow.writable && slow.write('X-Pad: x\r\n'), 100);
    const [r1, r2] = await Promise.all([a, b]);
    clearInterval(drip);
    expect(r1.ms).toBeLessThan(limits.headersTimeoutMs + 1_000);
    expect(r2.ms).toBeLessThan(limits.headersTimeoutMs + 1_000);
  });

  it('a TCP connection that never starts TLS is dropped at the handshake timeout', async () => {
    const socket = netConnect({ host: '127.0.0.1', port: server.port });
    await new Promise((r) => socket.once('connect', r));
    const { ms } = await closedAfter(socket);
    expect(ms).toBeLessThan(limits.handshakeTimeoutMs + 1_000);
    expect(ms).toBeGreaterThanOrEqual(limits.handshakeTimeoutMs - 200);
  });

  it('an idle keep-alive connection is closed after the keep-alive timeout, with the timeout announced', async () => {
    const socket = await tlsConnection(server);
    const body = JSON.stringify(review({ kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }));
    const closed = closedAfter(socket);
    socket.write(`POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const { ms, text } = await closed;
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).toMatch(/\r\nKeep-Alive: timeout=\d+\r\n/i);
    expect(ms).toBeLessThan(limits.keepAliveTimeoutMs + 1_500);
  });
});

describe('connection cap', () => {
  const maxConnections = 6;
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ limits: { maxConnections } });
  });
  afterAll(async () => server.close());

  it('refuses connections above the cap while admission keeps answering on open ones', async () => {
    // The API server's keep-alive connection, opened first.
    const apiServer = new Client(server.url, { connect: { ca: server.ca, servername: 'localhost' }, pipelining: 1 });
    const ask = async (): Promise<number> => {
      const body = review({ kind: { group: 'apps', version: 'v1', kind: 'Deployment' } });
      const res = await apiServer.request({ path: '/validate', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = (await res.body.json()) as { response: { uid: string; allowed: boolean } };
      expect(json.response.uid).toBe((body.request as { uid: string }).uid);
      return res.statusCode;
    };
    expect(await ask()).toBe(200);

    // Idle clients take the other slots.
    const idle: TLSSocket[] = [];
    for (let i = 0; i < maxConnections - 1; i++) idle.push(await tlsConnection(server));

    // Above the cap: closed at accept, the handshake never completes.
    const refused = await Promise.all(
      Array.from({ length: 5 }, () =>
        tlsConnection(server).then(
          (s) => {
            s.destroy();
            return 'connected';
          },
          (err: NodeJS.ErrnoException) => err.code ?? err.message,
        ),
      ),
    );
    expect(refused.every((r) => r !== 'connected'), refused.join(',')).toBe(true);

    // The open connection is still served.
    for (let i = 0; i < 5; i++) expect(await ask()).toBe(200);

    // Slots freed are usable again.
    for (const s of idle) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const again = await tlsConnection(server);
    again.destroy();
    await apiServer.close();
  });
});
