import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bundleVerifies, fingerprintOf, planAuthority, signedBy, splitPem, type Authority, type AuthorityPolicy, type Observed } from './authority.ts';
import { defaultGenerator } from './controller.ts';
import { defaultServingNames } from './generate.ts';

const DAY = 86_400_000;
const policy: AuthorityPolicy = { caValidityMs: 90 * DAY, servingValidityMs: 9 * DAY, names: defaultServingNames(), settleMs: 10_000 };
const t0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number): Date => new Date(t0.getTime() + ms);
const nothingInjected: Observed = { injected: [], injectedSinceMs: t0.getTime(), replicasOnSigner: false };
const injectedAll = (a: Authority, sinceMs: number, replicasOnSigner = false): Observed => ({ injected: a.trust, injectedSinceMs: sinceMs, replicasOnSigner });
const notAfter = (pem: string): number => new Date(new X509Certificate(pem).validTo).getTime();

function plan(a: Authority | undefined, now: Date, observed: Observed = nothingInjected, unusable?: string) {
  return planAuthority(a, unusable, now, policy, observed, defaultGenerator);
}

describe('planAuthority', () => {
  const created = plan(undefined, t0)!;
  const a = created.authority;

  it('creates a CA and a serving certificate it signs, trusted by the bundle', () => {
    expect(created.reason).toBe('created');
    expect(a.trust.map(fingerprintOf)).toEqual([fingerprintOf(a.signer.certPem)]);
    expect(signedBy(a.serving.certPem, a.signer.certPem)).toBe(true);
    expect(bundleVerifies(a.trust, a.serving.certPem, t0)).toBe(true);
    expect(plan(undefined, t0, nothingInjected, 'tls.crt: certificate or key missing')!.reason).toBe('replaced-unusable');
  });

  it('leaves a healthy authority alone, and renews the serving certificate when a third of its life is left', () => {
    expect(plan(a, at(5 * DAY))).toBeUndefined();
    const renewed = plan(a, at(6.5 * DAY))!;
    expect(renewed.reason).toBe('serving-renewed');
    expect(renewed.authority.signer).toBe(a.signer);
    expect(renewed.authority.trust).toEqual(a.trust);
    expect(fingerprintOf(renewed.authority.serving.certPem)).not.toBe(fingerprintOf(a.serving.certPem));
    expect(bundleVerifies(a.trust, renewed.authority.serving.certPem, at(6.5 * DAY))).toBe(true);
  });

  it('renews a serving certificate for other names, or not signed by the signer', () => {
    const other = plan(undefined, t0)!.authority;
    expect(plan({ ...a, serving: other.serving }, at(DAY))!.reason).toBe('serving-renewed');
    expect(planAuthority(a, undefined, at(DAY), { ...policy, names: { dnsNames: ['netfence.other.svc'], ips: [] } }, nothingInjected, defaultGenerator)!.reason).toBe('serving-renewed');
  });

  it('rotates the CA with an overlap: trust first, sign after every webhook trusts it, drop the old CA after every replica serves the new one', () => {
    const late = 61 * DAY;
    // The serving certificate was renewed along the way; what matters here is the CA.
    const aLate = { ...a, serving: defaultGenerator.serving(a.signer, policy.names, at(late - DAY), policy.servingValidityMs) };
    const start = plan(aLate, at(late))!;
    expect(start.reason).toBe('ca-rotation-started');
    const r1 = start.authority;
    expect(r1.next).toBeDefined();
    expect(r1.signer).toBe(a.signer);
    expect(r1.trust.map(fingerprintOf)).toEqual([a.signer.certPem, r1.next!.certPem].map(fingerprintOf));
    // Not injected yet, or injected too recently: the new CA does not sign.
    expect(plan(r1, at(late + 1000))).toBeUndefined();
    expect(plan(r1, at(late + 1000), injectedAll(r1, t0.getTime() + late + 500))).toBeUndefined();
    expect(plan(r1, at(late + 20_000), { injected: [a.signer.certPem], injectedSinceMs: t0.getTime(), replicasOnSigner: false })).toBeUndefined();
    const switched = plan(r1, at(late + 20_000), injectedAll(r1, t0.getTime() + late))!;
    expect(switched.reason).toBe('ca-rotation-signer-switched');
    const r2 = switched.authority;
    expect(fingerprintOf(r2.signer.certPem)).toBe(fingerprintOf(r1.next!.certPem));
    expect(r2.next).toBeUndefined();
    expect(r2.trust).toEqual(r1.trust);
    expect(signedBy(r2.serving.certPem, r2.signer.certPem)).toBe(true);
    // Both the old serving certificate and the new one are trusted during the overlap.
    for (const s of [aLate.serving.certPem, r2.serving.certPem]) expect(bundleVerifies(r2.trust, s, at(late + 20_000))).toBe(true);
    // A replica still serving the old certificate keeps the old CA in.
    expect(plan(r2, at(late + 40_000), injectedAll(r2, t0.getTime() + late, false))).toBeUndefined();
    const done = plan(r2, at(late + 40_000), injectedAll(r2, t0.getTime() + late, true))!;
    expect(done.reason).toBe('ca-rotation-finished');
    expect(done.authority.trust.map(fingerprintOf)).toEqual([fingerprintOf(r2.signer.certPem)]);
    expect(plan(done.authority, at(late + 41_000), injectedAll(done.authority, t0.getTime() + late, true))).toBeUndefined();
  });

  it('never issues a serving certificate that outlives its CA, and does not renew it in a loop near the CA end', () => {
    const shortCa = planAuthority(undefined, undefined, t0, { ...policy, caValidityMs: 5 * DAY }, nothingInjected, defaultGenerator)!.authority;
    expect(notAfter(shortCa.serving.certPem)).toBeLessThanOrEqual(notAfter(shortCa.signer.certPem));
  });

  it('drops expired CAs from the trust and repairs a trust that lost the signer', () => {
    const expiredCa = defaultGenerator.ca(new Date(t0.getTime() - 10 * DAY), DAY);
    const withExpired = { ...a, trust: [...a.trust, expiredCa.certPem] };
    expect(plan(withExpired, at(DAY))!.reason).toBe('trust-expired-dropped');
    const repaired = plan({ ...a, trust: [] }, at(DAY))!;
    expect(repaired.reason).toBe('trust-repaired');
    expect(repaired.authority.trust.map(fingerprintOf)).toEqual([fingerprintOf(a.signer.certPem)]);
  });

  it('splitPem reads bundles and bundleVerifies refuses expired and foreign certificates', () => {
    expect(splitPem(a.trust.join('') + 'junk\n' + a.trust.join(''))).toHaveLength(2);
    expect(bundleVerifies(a.trust, a.serving.certPem, at(10 * DAY))).toBe(false);
    const foreign = plan(undefined, t0)!.authority;
    expect(bundleVerifies(a.trust, foreign.serving.certPem, t0)).toBe(false);
    expect(bundleVerifies([], a.serving.certPem, t0)).toBe(false);
  });
});
