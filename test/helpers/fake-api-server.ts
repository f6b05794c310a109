import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * A loopback HTTP server standing in for the API server in unit tests: each request goes to
 * the handler, and is recorded (method, path with query, body, headers). Connections are
 * counted, to check that clients reuse them.
 */
export class FakeApiServer {
  readonly requests: Array<{ method: string; url: string; body: string; headers: IncomingMessage['headers'] }> = [];
  connections = 0;
  private readonly server: Server;
  private handler: (req: IncomingMessage, body: string, res: ServerResponse) => void;

  constructor(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
    this.handler = handler;
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', body, headers: req.headers });
        this.handler(req, body, res);
      });
    });
    this.server.on('connection', () => this.connections++);
  }

  setHandler(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): void {
    this.handler = handler;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A KubeConfig pointing at this server with a bearer token (plain HTTP needs skipTLSVerify). */
  static kubeConfig(url: string, token = 'secret-token'): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
      users: [{ name: 'u', token }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    return kc;
  }
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function status(res: ServerResponse, code: number, reason: string, message: string): void {
  json(res, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
}
