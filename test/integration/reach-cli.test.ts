import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/server.ts';

const SHOP = 'test/fixtures/manifests/shop.yaml';

describe('netfence reach', () => {
  const cases: Array<[string, string[], number, RegExp]> = [
    ['logic to data on its port', ['--from', 'shop/api', '--to', 'shop/db', '--port', '5432'], 0, /^allowed: shop\/api -> shop\/db TCP\/5432/],
    ['web to data', ['--from', 'shop/web', '--to', 'shop/db', '--port', '5432'], 1, /^denied: .*\n.*egress of shop\/web: isolated by .*no rule of theirs admits/],
    ['internet to web on the named port', ['--from', '203.0.113.50', '--to', 'shop/web', '--port', '8080'], 0, /admitted by policy web-from-internet, rule spec\.ingress\[0\]/],
    ['internet to web on another port', ['--from', '203.0.113.50', '--to', 'shop/web', '--port', '8081'], 1, /^denied/],
    ['UDP DNS from the api', ['--from', 'shop/api', '--to', '10.96.0.10', '--port', '53', '--protocol', 'udp'], 1, /^denied.*UDP\/53/],
  ];
  it.each(cases)('%s', (_n, args, status, output) => {
    const r = runCli(['reach', '-f', SHOP, ...args]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(status);
    expect(r.stdout).toMatch(output);
  });

  it('-o json carries the explanation for each direction', () => {
    const r = runCli(['reach', '-f', SHOP, '--from', 'monitoring/prometheus', '--to', 'shop/api', '--port', '9090', '-o', 'json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      allowed: true,
      from: 'monitoring/prometheus',
      to: 'shop/api',
      port: 9090,
      protocol: 'TCP',
      egress: { direction: 'Egress', pod: 'monitoring/prometheus', isolated: false, policies: [], allowed: true },
      ingress: {
        direction: 'Ingress',
        pod: 'shop/api',
        isolated: true,
        policies: ['api-from-web', 'netfence-default-deny'],
        allowed: true,
        admittedBy: { policy: 'api-from-web', rule: 1, path: 'spec.ingress[1]' },
      },
    });
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['an unknown pod, listing the pods that exist', ['--from', 'shop/nope', '--to', 'shop/db', '--port', '1'], /--from shop\/nope: no such pod or workload \(in shop: shop\/api, shop\/db, shop\/web\)/],
    ['a pod in a namespace without pods', ['--from', 'shop/api', '--to', 'ghost/x', '--port', '1'], /there are no pods or workloads in namespace ghost/],
    ['a bad port', ['--from', 'shop/api', '--to', 'shop/db', '--port', '70000'], /--port 70000: must be a port number/],
    ['a bad protocol', ['--from', 'shop/api', '--to', 'shop/db', '--port', '1', '--protocol', 'ICMP'], /--protocol ICMP: use TCP, UDP or SCTP/],
    ['neither pod nor address', ['--from', 'api', '--to', 'shop/db', '--port', '1'], /--from api: expected NAMESPACE\/NAME, NAMESPACE\/KIND\/NAME \(production\/deployment\/api\) or an IPv4\/IPv6 address/],
    ['two outside addresses', ['--from', '1.1.1.1', '--to', '8.8.8.8', '--port', '1'], /at least one end must be a pod/],
  ];
  it.each(bad)('exits 2 on %s', (_n, args, message) => {
    const r = runCli(['reach', '-f', SHOP, ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('exits 2 on a NetworkPolicy the API server would refuse, with file, document and path', () => {
    const file = join(tempDir(), 'bad.yaml');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: n}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: n}\nspec:\n  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/40}}]}]\n',
    );
    const r = runCli(['reach', '-f', file, '--from', 'n/a', '--to', '1.1.1.1', '--port', '1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file} (document 2): NetworkPolicy p would be refused by the API server`);
    expect(r.stderr).toContain('spec.egress[0].to[0].ipBlock.cidr: "10.0.0.0/40" is not a valid CIDR');
  });

  it('exits 2 on invalid YAML, with file and document', () => {
    const file = join(tempDir(), 'bad.yaml');
    writeFileSync(file, 'kind: Pod\nmetadata: {name: a\n');
    const r = runCli(['reach', '-f', file, '--from', 'n/a', '--to', '1.1.1.1', '--port', '1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${file} \\(document 1\\): invalid YAML at line \\d+`));
  });
});

describe('netfence exposure', () => {
  it('lists, per pod, from where it can be reached, on which ports, through which policy', () => {
    const r = runCli(['exposure', '-f', SHOP]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('shop/web\n  ingress: isolated by netfence-default-deny, web-from-internet\n    from [anywhere, the internet] 0.0.0.0/0 on TCP/8080 (http) (web-from-internet spec.ingress[0])');
    expect(r.stdout).toContain(
      'shop/api\n  ingress: isolated by api-from-web, netfence-default-deny\n' +
        '    from pods app=web in shop on TCP/9000 (http) (api-from-web spec.ingress[0])\n' +
        '    from [other namespaces] pods app=prometheus in namespaces team=ops (monitoring) on TCP/9090 (metrics) (api-from-web spec.ingress[1])\n' +
        '  egress: isolated by api-from-web, netfence-allow-dns, netfence-default-deny\n' +
        '    to pods tier=data (tier data) in shop on TCP/5432 (api-from-web spec.egress[0])\n' +
        '    to [other namespaces] pods k8s-app=kube-dns in namespace kube-system on UDP/53, TCP/53 (netfence-allow-dns spec.egress[0])',
    );
    expect(r.stdout).toContain('monitoring/prometheus\n  ingress: NOT isolated');
    expect(r.stdout).toContain('not isolated for ingress: monitoring/prometheus');
    expect(r.stdout).toContain('not isolated for egress: monitoring/prometheus');
  });

  it('--tier with the config narrows to the tier, and -o json is for tools', () => {
    const r = runCli(['exposure', '-f', SHOP, '--tier', 'data', '-o', 'json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.endpoints.map((p: { name: string }) => p.name)).toEqual(['shop/db']);
    expect(report.endpoints[0].ingress.rules).toEqual([
      {
        policy: 'db-from-logic',
        rule: 0,
        path: 'spec.ingress[0]',
        classes: [],
        allPeers: false,
        peers: [{ path: 'spec.ingress[0].from[0]', kind: 'pods', pods: 'tier=logic', tiers: ['logic'], namespaces: ['shop'] }],
        allPorts: false,
        ports: [{ protocol: 'TCP', port: 5432 }],
      },
    ]);
  });

  it('--namespace narrows to one namespace; an unknown tier is bad input', () => {
    expect(runCli(['exposure', '-f', SHOP, '-n', 'monitoring']).stdout).not.toContain('shop/');
    const r = runCli(['exposure', '-f', SHOP, '--tier', 'cache']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--tier cache: not a tier of the config (tiers: data, logic)');
  });
});
