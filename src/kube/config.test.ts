import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inClusterTransport, kubeconfigTransport, loadTransport } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'netfence-kubeconfig-'));
const b64 = (s: string): string => Buffer.from(s).toString('base64');

function kubeconfig(name: string, user: string, cluster = 'server: https://10.0.0.1:6443\n    certificate-authority-data: ' + b64('CA')): string {
  const file = join(dir, name);
  writeFileSync(file, `apiVersion: v1
kind: Config
current-context: x
clusters:
- name: c
  cluster:
    ${cluster}
users:
- name: u
  user:
${user}
contexts:
- name: x
  context: { cluster: c, user: u }
`);
  return file;
}

describe('kubeconfigTransport', () => {
  it('reads the server, CA and a bearer token', async () => {
    const t = kubeconfigTransport(kubeconfig('token', '    token: abc'))!;
    expect(t.server.toString()).toBe('https://10.0.0.1:6443/');
    expect(t.tls.ca?.toString()).toBe('CA');
    expect(await t.headers()).toEqual({ Authorization: 'Bearer abc' });
  });

  it('reads a client certificate and key, inline or from files relative to the kubeconfig', async () => {
    writeFileSync(join(dir, 'client.key'), 'KEY');
    const t = kubeconfigTransport(kubeconfig('cert', `    client-certificate-data: ${b64('CERT')}\n    client-key: client.key`))!;
    expect(t.tls.cert?.toString()).toBe('CERT');
    expect(t.tls.key?.toString()).toBe('KEY');
    expect(await t.headers()).toEqual({});
  });

  it('reads a token file', async () => {
    writeFileSync(join(dir, 'tok'), 'from-file\n');
    const t = kubeconfigTransport(kubeconfig('tokenfile', '    tokenFile: tok'))!;
    expect(await t.headers()).toEqual({ Authorization: 'Bearer from-file' });
  });

  it('leaves exec plugins to client-node', async () => {
    const file = kubeconfig('exec', '    exec: { apiVersion: client.authentication.k8s.io/v1, command: /bin/echo }');
    expect(kubeconfigTransport(file)).toBeUndefined();
  });

  it('says what is wrong with a kubeconfig it cannot use', () => {
    expect(() => kubeconfigTransport(join(dir, 'missing'))).toThrow(/cannot read the kubeconfig/);
    expect(() => kubeconfigTransport(kubeconfig('nohttp', '    token: a', 'server: http://10.0.0.1:8080'))).toThrow(/plain HTTP needs insecure-skip-tls-verify/);
  });

  it('loadTransport prefers --kubeconfig, then KUBECONFIG', async () => {
    const file = kubeconfig('env', '    token: env');
    expect(await (await loadTransport(undefined, { KUBECONFIG: file })).headers()).toEqual({ Authorization: 'Bearer env' });
  });
});

describe('inClusterTransport', () => {
  it('uses the Service address and the ServiceAccount token and CA', async () => {
    const sa = join(dir, 'sa');
    mkdirSync(sa);
    writeFileSync(join(sa, 'token'), 'sa-token');
    writeFileSync(join(sa, 'ca.crt'), 'SACA');
    const t = inClusterTransport({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, sa);
    expect(t.server.toString()).toBe('https://10.96.0.1/');
    expect(t.tls.ca?.toString()).toBe('SACA');
    expect(await t.headers()).toEqual({ Authorization: 'Bearer sa-token' });
    expect(() => inClusterTransport({}, sa)).toThrow(/KUBERNETES_SERVICE_HOST is not set/);
  });
});
