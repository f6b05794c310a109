import { describe, expect, it } from 'vitest';
import { loadClusterInput } from '../cluster/input.ts';
import { StaticClusterView } from '../cluster/static.ts';
import { parseEndpoint } from './endpoints.ts';

const { view } = loadClusterInput(['test/fixtures/manifests/app-repo']);
// A bare Pod named like a workload, and two workloads of one name, in another namespace.
const { view: mixed } = loadClusterInput(['test/fixtures/manifests/shop.yaml', 'test/fixtures/manifests/app-repo']);

describe('parseEndpoint: pods and workloads', () => {
  const cases: Array<[string, string, string, string[] | undefined]> = [
    ['a workload by name', 'production/api', 'production/deployment/api', ['app', 'tier']],
    ['a StatefulSet by name', 'production/postgres', 'production/statefulset/postgres', ['app', 'tier']],
    ['a CronJob (its job template) by name', 'production/report', 'production/cronjob/report', ['app']],
    ['NAMESPACE/KIND/NAME', 'production/deployment/api', 'production/deployment/api', ['app', 'tier']],
    ['kind in kubectl short form', 'production/sts/postgres', 'production/statefulset/postgres', ['app', 'tier']],
    ['kind capitalised', 'production/CronJob/report', 'production/cronjob/report', ['app']],
    ['an address', '203.0.113.7', '203.0.113.7', undefined],
  ];
  it.each(cases)('%s', (_n, text, name, labelKeys) => {
    const e = parseEndpoint('--to', text, view);
    expect(e.name).toBe(name);
    if (labelKeys) {
      expect(e.endpoint.kind).toBe('pod');
      if (e.endpoint.kind === 'pod') expect(Object.keys(e.endpoint.pod.labels).sort()).toEqual(labelKeys);
    } else {
      expect(e.endpoint.kind).toBe('address');
    }
  });

  it('a workload stands for its template: labels and container ports', () => {
    const e = parseEndpoint('--to', 'production/postgres', view);
    expect(e.endpoint.kind === 'pod' && e.endpoint.pod).toMatchObject({ labels: { app: 'postgres', tier: 'data' }, ports: [{ name: 'pg', containerPort: 5432, protocol: 'TCP' }] });
  });

  it('a Pod wins over a workload of the same name', () => {
    expect(parseEndpoint('--to', 'shop/api', mixed).name).toBe('shop/api');
  });

  const bad: Array<[string, string, string]> = [
    ['an unknown name lists what exists', 'production/nope', 'no such pod or workload (in production: production/cronjob/report, production/deployment/api, production/statefulset/postgres)'],
    ['a kind that is no workload', 'production/service/api', 'service is not a kind of pod or workload'],
    ['the wrong kind', 'production/daemonset/api', 'no such pod or workload'],
    ['an empty part', 'production//api', 'expected NAMESPACE/NAME'],
    ['four parts', 'a/b/c/d', 'expected NAMESPACE/NAME'],
  ];
  it.each(bad)('refuses %s', (_n, text, message) => {
    expect(() => parseEndpoint('--from', text, view)).toThrow(message);
  });

  it('two workloads of one name must be told apart by kind', () => {
    const template = { template: { metadata: { labels: { app: 'x' } }, spec: { containers: [] } } };
    const twins = new StaticClusterView(
      ['Deployment', 'StatefulSet'].map((kind) => ({ object: { kind, metadata: { name: 'x', namespace: 'n' }, spec: template }, source: { file: 'f', document: 1, path: '' } })),
    );
    expect(() => parseEndpoint('--to', 'n/x', twins)).toThrow('several workloads are named x: n/deployment/x, n/statefulset/x; name one as NAMESPACE/KIND/NAME');
    expect(parseEndpoint('--to', 'n/statefulset/x', twins).name).toBe('n/statefulset/x');
  });
});
