import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/server.ts';

// The CLI on an application repository: workloads instead of Pods, typed lists from kubectl,
// a NetworkPolicy without podSelector; and every way a user can get it wrong.

const APP = 'test/fixtures/manifests/app-repo';
const SHOP = 'test/fixtures/manifests/shop.yaml';

describe('workloads are endpoints', () => {
  const cases: Array<[string, string[], number, string]> = [
    ['Deployment to StatefulSet by name', ['--from', 'production/api', '--to', 'production/postgres', '--port', '5432'], 0, 'allowed: production/deployment/api -> production/statefulset/postgres TCP/5432'],
    ['by kind, to a port name', ['--from', 'production/deployment/api', '--to', 'production/statefulset/postgres', '--port', 'pg'], 0, 'allowed: production/deployment/api -> production/statefulset/postgres TCP/5432 (pg)'],
    ['a CronJob is isolated by the podSelector-less default-deny', ['--from', 'production/report', '--to', 'production/postgres', '--port', 'pg'], 1, 'egress of production/cronjob/report: isolated by default-deny; no rule of theirs admits'],
    ['the internet to the Deployment', ['--from', '203.0.113.9', '--to', 'production/api', '--port', 'http'], 0, 'admitted by policy api-from-internet, rule spec.ingress[0]'],
    ['the except of the ipBlock', ['--from', '10.1.2.3', '--to', 'production/api', '--port', '8080'], 1, 'denied: 10.1.2.3 -> production/deployment/api TCP/8080'],
  ];
  it.each(cases)('reach: %s', (_n, args, status, text) => {
    const r = runCli(['reach', '-f', APP, ...args]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(status);
    expect(r.stdout).toContain(text);
  });

  it('exposure lists workloads, both directions, and never a port the pod does not serve', () => {
    const r = runCli(['exposure', '-f', APP]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      'production/statefulset/postgres\n  ingress: isolated by default-deny, postgres-from-api\n    from pods app=api in production on TCP/5432 (pg) (postgres-from-api spec.ingress[0])\n  egress: isolated by default-deny\n    no rule lets anything out',
    );
    expect(r.stdout).not.toContain('metrics');
    expect(r.stdout).toContain('production/deployment/api\n  ingress: isolated by api-from-internet, default-deny\n    from [anywhere, the internet] 0.0.0.0/0 except 10.0.0.0/8 on TCP/8080 (http)');
    expect(r.stdout).toContain('production/cronjob/report\n');
    expect(r.stdout).toContain('all 3 listed are isolated for ingress');
  });

  it('reach --port NAME the destination does not declare is bad input naming its ports', () => {
    const r = runCli(['reach', '-f', APP, '--from', 'production/api', '--to', 'production/postgres', '--port', 'metrics']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--port metrics: production/statefulset/postgres declares no TCP port named metrics (its ports: TCP/5432 (pg))');
  });
});

describe('bad input and usage: exit 2, file, document, field; never a stack trace', () => {
  function write(text: string, name = 'm.yaml'): string {
    const file = join(tempDir(), name);
    writeFileSync(file, text);
    return file;
  }
  const bomb = `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n`;
  const cases: Array<[string, () => string[], RegExp]> = [
    ['a YAML alias bomb in a manifest', () => ['reach', '-f', write(`kind: Namespace\nmetadata: {name: a}\n---\n${bomb}`), '--from', 'a/b', '--to', '1.1.1.1', '--port', '1'], /m\.yaml \(document 2\): invalid YAML: .*alias/],
    ['a YAML alias bomb in --config', () => ['check', '-f', SHOP, '--config', write(bomb, 'c.yaml')], /invalid config .*c\.yaml/],
    ['a bad --config in check', () => ['check', '-f', SHOP, '--config', write('apiVersion: netfence.io/v1alpha1\nkind: NetfenceConfig\nrules: [{id: x, type: nope}]\n', 'c.yaml')], /rules\[0\]\.type/],
    ['a missing --config', () => ['check', '-f', SHOP, '--config', '/nonexistent/c.yaml'], /cannot read the file/],
    [
      'two NetworkPolicies of one name',
      () => ['check', '-f', write('kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: p, namespace: n}\nspec: {podSelector: {}}\n---\nkind: NetworkPolicyList\napiVersion: networking.k8s.io/v1\nitems: [{metadata: {name: p, namespace: n}}]\n')],
      /m\.yaml \(document 2, items\[0\]\): NetworkPolicy n\/p is also defined at .*m\.yaml \(document 1\)/,
    ],
    ['an unknown command', () => ['frobnicate'], /unknown command "frobnicate"/],
    ['an unknown flag', () => ['reach', '--frm', 'x'], /Unknown option '--frm'/],
    ['-o with a format the command does not have', () => ['reach', '-f', SHOP, '--from', 'shop/api', '--to', 'shop/db', '--port', '1', '-o', 'yaml'], /-o yaml: use text, json/],
  ];
  it.each(cases)('%s', (_n, args, message) => {
    const r = runCli(args());
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('-o json numbers documents from 1, like the text', () => {
    const r = runCli(['check', '-f', APP, '-o', 'json']);
    const out = JSON.parse(r.stdout) as { results: Array<{ name: string; source: { file: string; document: number; path: string } }> };
    expect(out.results.find((x) => x.name === 'postgres-from-api')!.source).toEqual({ file: join(APP, 'policies.yaml'), document: 1, path: 'items[2]', line: 14 });
  });
});

describe('help, version, pipes', () => {
  it('--version prints the package version', () => {
    const r = runCli(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(`netfence ${(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version}`);
  });

  it.each(['check', 'reach', 'exposure', 'serve', 'certs'])('%s --help exits 0 with the command usage', (command) => {
    const r = runCli([command, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`netfence ${command} `);
    expect(r.stderr).toBe('');
  });

  it('a closed pipe ends quietly with the exit code of the answer', () => {
    // `| true` closes the pipe before netfence writes: the write fails with EPIPE.
    const main = join(REPO, 'src/cli/main.ts');
    const script = `"${process.execPath}" "${main}" reach -f ${SHOP} --from shop/api --to shop/db --port 5432 | true; echo "exit=\${PIPESTATUS[0]}"`;
    const r = spawnSync('bash', ['-c', script], { cwd: REPO, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('exit=0');
  });
});
