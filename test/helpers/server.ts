import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import supertest from 'supertest';
import { HandlerTable } from '../../src/admission/handlers.ts';
import { writeCertBundle } from '../../src/certs/files.ts';
import { defaultServingNames } from '../../src/certs/generate.ts';
import { StaticClusterView } from '../../src/cluster/static.ts';
import type { ClusterView } from '../../src/cluster/view.ts';
import { builtInConfig } from '../../src/config/load.ts';
import { ConfigStore } from '../../src/config/store.ts';
import { createLogger } from '../../src/log.ts';
import { buildApp, type NetfenceApp } from '../../src/server/app.ts';
import type { ServerLimits } from '../../src/server/limits.ts';
import { ServingCertificate } from '../../src/server/serving-cert.ts';

export interface TestServer extends NetfenceApp {
  url: string;
  port: number;
  ca: Buffer;
  certDir: string;
  certificate: ServingCertificate;
  config: ConfigStore;
  /** Parsed log lines written so far. */
  logs(): Array<Record<string, unknown>>;
  /** supertest against the real HTTPS server; the chain is verified against the test CA. */
  post(path: string, body: unknown): supertest.Test;
  get(path: string): supertest.Test;
  close(): Promise<void>;
}

export interface TestServerOptions {
  handlers?: HandlerTable;
  config?: ConfigStore;
  cluster?: ClusterView;
  clock?: () => Date;
  limits?: Partial<ServerLimits>;
  clientCA?: string;
}

export function tempDir(prefix = 'netfence-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const certDir = tempDir();
  writeCertBundle(certDir, defaultServingNames());
  const certificate = new ServingCertificate(certDir);
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(s) } });
  const config = options.config ?? new ConfigStore(builtInConfig());
  const built = buildApp({
    logger,
    config,
    cluster: options.cluster ?? StaticClusterView.empty(),
    handlers: options.handlers ?? new HandlerTable(),
    certificate,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.clientCA !== undefined ? { clientCA: options.clientCA } : {}),
  });
  await built.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (built.app.server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;
  const ca = readFileSync(join(certDir, 'ca.crt'));
  return {
    ...built,
    url,
    port,
    ca,
    certDir,
    certificate,
    config,
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    post: (path, body) =>
      supertest(url)
        .post(path)
        .ca(ca)
        .set('content-type', 'application/json')
        .send(typeof body === 'string' ? body : JSON.stringify(body)),
    get: (path) => supertest(url).get(path).ca(ca),
    close: async () => {
      certificate.close();
      config.close();
      await built.app.close();
      rmSync(certDir, { recursive: true, force: true });
    },
  };
}

let uidCounter = 0;

/** An AdmissionReview as the API server sends it. */
export function review(
  request: Partial<{
    uid: string;
    kind: { group: string; version: string; kind: string };
    operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
    namespace: string;
    name: string;
    object: unknown;
    oldObject: unknown;
    dryRun: boolean;
    userInfo: { username?: string; groups?: string[] };
  }>,
  apiVersion = 'admission.k8s.io/v1',
): Record<string, unknown> {
  uidCounter += 1;
  return {
    apiVersion,
    kind: 'AdmissionReview',
    request: {
      uid: `uid-${uidCounter}-${Date.now()}`,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      operation: 'CREATE',
      userInfo: { username: 'alice', groups: ['system:authenticated'] },
      dryRun: false,
      ...request,
    },
  };
}
