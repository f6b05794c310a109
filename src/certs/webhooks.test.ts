import { describe, expect, it } from 'vitest';
import { fingerprintOf } from './authority.ts';
import { defaultGenerator } from './controller.ts';
import { armed, desiredWebhookConfiguration, encodeBundle, injectedTrust, type WebhookConfiguration } from './webhooks.ts';

const config = (caBundles: Array<string | undefined>, failurePolicy: 'Fail' | 'Ignore' = 'Ignore'): WebhookConfiguration => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingWebhookConfiguration',
  metadata: { name: 'netfence', resourceVersion: '7' },
  webhooks: caBundles.map((caBundle, i) => ({ name: `w${i}.netfence.io`, clientConfig: { service: { name: 'netfence' }, ...(caBundle ? { caBundle } : {}) }, failurePolicy, timeoutSeconds: 5, rules: [{ operations: ['CREATE'] }] })),
});

describe('desiredWebhookConfiguration', () => {
  const selector = { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn' as const, values: ['netfence-system'] }] };
  const cases: Array<{ name: string; current: WebhookConfiguration; settings: Parameters<typeof desiredWebhookConfiguration>[1]; changed: boolean; check: (o: WebhookConfiguration) => void }> = [
    { name: 'injects the caBundle into every entry', current: config([undefined, 'b2xk']), settings: { caBundle: 'bmV3' }, changed: true, check: (o) => expect(o.webhooks!.map((w) => w.clientConfig.caBundle)).toEqual(['bmV3', 'bmV3']) },
    { name: 'the same caBundle again changes nothing', current: config(['bmV3', 'bmV3']), settings: { caBundle: 'bmV3' }, changed: false, check: () => undefined },
    { name: 'no caBundle given (cert-manager owns it): left as it is', current: config(['Y20=', undefined]), settings: { failurePolicy: 'Fail' }, changed: true, check: (o) => expect(o.webhooks!.map((w) => [w.clientConfig.caBundle, w.failurePolicy])).toEqual([['Y20=', 'Fail'], [undefined, 'Fail']]) },
    { name: 'a namespaceSelector from the config goes into every entry', current: config(['bmV3']), settings: { namespaceSelector: selector }, changed: true, check: (o) => expect(o.webhooks![0]!.namespaceSelector).toEqual(selector) },
    { name: 'fields netfence does not own are kept (rules, timeouts, service, resourceVersion)', current: config([undefined]), settings: { caBundle: 'bmV3', failurePolicy: 'Fail' }, changed: true, check: (o) => expect([o.metadata.resourceVersion, o.webhooks![0]!.timeoutSeconds, o.webhooks![0]!.rules, o.webhooks![0]!.clientConfig.service]).toEqual(['7', 5, [{ operations: ['CREATE'] }], { name: 'netfence' }]) },
    { name: 'a configuration with no entries stays without entries', current: { ...config([]), webhooks: undefined }, settings: { caBundle: 'bmV3' }, changed: false, check: (o) => expect(o.webhooks).toEqual([]) },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const before = structuredClone(c.current);
      const { object, changed } = desiredWebhookConfiguration(c.current, c.settings);
      expect(changed).toBe(c.changed);
      c.check(object);
      expect(c.current).toEqual(before);
    });
  }
});

describe('injectedTrust and armed', () => {
  const a = defaultGenerator.ca(new Date(), 86_400_000).certPem;
  const b = defaultGenerator.ca(new Date(), 86_400_000).certPem;
  it('is what every entry of every configuration trusts', () => {
    const fps = (pems: string[]) => pems.map(fingerprintOf);
    expect(fps(injectedTrust([config([encodeBundle([a, b]), encodeBundle([b])])]))).toEqual(fps([b]));
    expect(fps(injectedTrust([config([encodeBundle([a, b])]), config([encodeBundle([a])])]))).toEqual(fps([a]));
    expect(injectedTrust([config([encodeBundle([a]), undefined])])).toEqual([]);
    expect(injectedTrust([config([encodeBundle([a])]), undefined])).toEqual([]);
    expect(injectedTrust([config([])])).toEqual([]);
  });
  it('armed only when every entry fails closed', () => {
    expect(armed([config(['x', 'y'], 'Fail')])).toBe(true);
    expect(armed([config(['x'], 'Fail'), config(['x'], 'Ignore')])).toBe(false);
    expect(armed([config([])])).toBe(false);
  });
});
