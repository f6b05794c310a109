import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli, waitForLog } from '../helpers/cli.ts';
import { tempDir } from '../helpers/server.ts';

describe('netfence certs', () => {
  it('writes a CA and a serving certificate it signed, for the default and the given names', () => {
    const out = tempDir();
    const r = runCli(['certs', '--out', out, '--dns', 'webhook.example.test', '--ip', '10.1.2.3', '--ip', 'fd00::5']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const f of ['ca.crt', 'ca.key', 'tls.crt', 'tls.key']) expect(existsSync(join(out, f))).toBe(true);
    expect(statSync(join(out, 'tls.key')).mode & 0o077).toBe(0);
    const ca = new X509Certificate(readFileSync(join(out, 'ca.crt')));
    const leaf = new X509Certificate(readFileSync(join(out, 'tls.crt')));
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkIssued(ca)).toBe(true);
    for (const name of ['localhost', 'netfence.netfence-system.svc', 'netfence.netfence-system.svc.cluster.local', 'webhook.example.test']) {
      expect(leaf.checkHost(name)).toBe(name);
    }
    for (const ip of ['127.0.0.1', '::1', '10.1.2.3', 'fd00::5']) expect(leaf.checkIP(ip)).toBe(ip);
  });

  it('refuses a bad --ip with exit 2', () => {
    const r = runCli(['certs', '--out', tempDir(), '--ip', '10.0.0.300']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--ip 10.0.0.300: not an IPv4 or IPv6 address');
  });
});

describe('netfence serve: start-up errors', () => {
  it('an unknown flag is a usage error (exit 2)', () => {
    const r = runCli(['serve', '--prot', '1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Unknown option '--prot'/);
  });

  it('a bad config refuses to start and lists every error with its path (exit 1)', () => {
    const file = join(tempDir(), 'bad.yaml');
    writeFileSync(file, 'apiVersion: netfence.io/v1alpha1\nkind: NetfenceConfig\ntiers: { data: {} }\nrules:\n  - { id: a, type: forbidIngressFrom, tier: nope, sources: [anywhere] }\n');
    const r = runCli(['serve', '--config', file, '--cert-dir', tempDir(), '--port', '0']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`invalid config ${file}`);
    expect(r.stderr).toContain('tiers.data: a tier needs matchLabels or matchExpressions');
    expect(r.stderr).toContain('rules[0].tier: "nope" is not a tier defined under tiers');
  });

  it('a half-present certificate pair is an error, not something to overwrite', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tls.crt'), 'x');
    const r = runCli(['serve', '--cert-dir', dir, '--port', '0']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('tls.key is missing while its pair is present');
    expect(readFileSync(join(dir, 'tls.crt'), 'utf8')).toBe('x');
  });

  it('a snapshot that does not parse is bad input (exit 2) with file and document', () => {
    const file = join(tempDir(), 'snap.yaml');
    writeFileSync(file, 'kind: Namespace\nmetadata: {name: a}\n---\nkind: Pod\nmetadata: [oops\n');
    const r = runCli(['serve', '--snapshot', file, '--cert-dir', tempDir(), '--port', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file} (document 2)`);
    expect(r.stderr).toContain('invalid YAML at line');
  });

  it('with --snapshot it serves from the manifests and says what it loaded', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'objects.yaml'),
      'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: shop}}\n- {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: shop, labels: {tier: data}}}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: other}\nspec: {podSelector: {}}\n',
    );
    const child = spawnCli(['serve', '--snapshot', dir, '--cert-dir', tempDir(), '--port', '0', '--host', '127.0.0.1']);
    try {
      const started = await waitForLog(child, (l) => l.event === 'server.started');
      expect(started.cluster).toBe(`snapshot ${dir}: 2 namespaces, 1 pods, 1 network policies`);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('without a cluster and a snapshot it says the view is empty', async () => {
    const child = spawnCli(['serve', '--cert-dir', tempDir(), '--port', '0', '--host', '127.0.0.1']);
    try {
      const line = await waitForLog(child, (l) => l.event === 'cluster.empty');
      expect(line.msg).toMatch(/empty cluster/);
      await waitForLog(child, (l) => l.event === 'server.started');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
