import { describe, expect, it } from 'vitest';
import { decodeAdmissionReview } from './review.ts';

const valid = {
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: 'u1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    operation: 'CREATE',
    userInfo: { username: 'alice' },
    object: { metadata: { name: 'p', labels: { n: 1 } }, spec: { weird: ['1', 2] } },
  },
};

describe('decodeAdmissionReview', () => {
  it('accepts v1 and v1beta1 and leaves object untouched', () => {
    const r = decodeAdmissionReview(valid);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.review.apiVersion).toBe('admission.k8s.io/v1');
      // Not coerced: the number label stays a number, the odd array stays as it is.
      expect(r.review.request.object).toBe(valid.request.object);
    }
    const beta = decodeAdmissionReview({ ...valid, apiVersion: 'admission.k8s.io/v1beta1' });
    expect(beta.ok && beta.review.apiVersion).toBe('admission.k8s.io/v1beta1');
  });

  it('defaults a missing group to the core group', () => {
    const r = decodeAdmissionReview({ ...valid, request: { ...valid.request, kind: { version: 'v1', kind: 'Pod' } } });
    expect(r.ok && r.review.request.kind.group).toBe('');
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['null', null, /expected an AdmissionReview object, got null/],
    ['an array', [valid], /got an array/],
    ['a string', 'hello', /got "hello"/],
    ['empty object', {}, /^kind: expected "AdmissionReview"/],
    ['wrong apiVersion', { ...valid, apiVersion: 'v1' }, /^apiVersion:/],
    ['no request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, /^request: required/],
    ['no uid', { ...valid, request: { ...valid.request, uid: undefined } }, /^request\.uid/],
    ['empty uid', { ...valid, request: { ...valid.request, uid: '' } }, /^request\.uid/],
    ['no kind', { ...valid, request: { ...valid.request, kind: 'Pod' } }, /^request\.kind/],
    ['bad operation', { ...valid, request: { ...valid.request, operation: 'PATCH' } }, /^request\.operation/],
    ['object not an object', { ...valid, request: { ...valid.request, object: [1] } }, /^request\.object/],
    ['dryRun not boolean', { ...valid, request: { ...valid.request, dryRun: 'yes' } }, /^request\.dryRun/],
  ];
  it.each(bad)('refuses %s with what is wrong', (_name, body, message) => {
    const r = decodeAdmissionReview(body);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
});
