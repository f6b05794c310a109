import { isObject, type KubeObject } from '../k8s/types.ts';

export const ADMISSION_V1 = 'admission.k8s.io/v1';
export const ADMISSION_V1BETA1 = 'admission.k8s.io/v1beta1';
const API_VERSIONS = new Set([ADMISSION_V1, ADMISSION_V1BETA1]);

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
const OPERATIONS = new Set<Operation>(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
}

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource?: { group: string; version: string; resource: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: Operation;
  userInfo: UserInfo;
  /** Left exactly as the API server sent it: decisions judge what will be stored. */
  object?: KubeObject | null;
  oldObject?: KubeObject | null;
  dryRun?: boolean;
  options?: unknown;
}

export interface AdmissionReview {
  apiVersion: string;
  kind: 'AdmissionReview';
  request: AdmissionRequest;
}

export type DecodeResult = { ok: true; review: AdmissionReview } | { ok: false; error: string };

/**
 * Checks the envelope of an AdmissionReview and nothing inside object/oldObject: those are
 * judged by the rules as the API server sent them, never coerced or stripped. That is also
 * why the routes declare no body schema (Fastify's Ajv would coerce types and drop fields).
 */
export function decodeAdmissionReview(body: unknown): DecodeResult {
  if (!isObject(body)) {
    return { ok: false, error: `expected an AdmissionReview object, got ${Array.isArray(body) ? 'an array' : describe(body)}` };
  }
  if (body.kind !== 'AdmissionReview') {
    return { ok: false, error: `kind: expected "AdmissionReview", got ${describe(body.kind)}` };
  }
  if (typeof body.apiVersion !== 'string' || !API_VERSIONS.has(body.apiVersion)) {
    return { ok: false, error: `apiVersion: expected "${ADMISSION_V1}" or "${ADMISSION_V1BETA1}", got ${describe(body.apiVersion)}` };
  }
  const req = body.request;
  if (!isObject(req)) return { ok: false, error: 'request: required, an AdmissionRequest object' };
  if (typeof req.uid !== 'string' || req.uid === '') return { ok: false, error: 'request.uid: required, a non-empty string' };
  const kind = req.kind;
  if (!isObject(kind) || typeof kind.kind !== 'string' || kind.kind === '' || typeof kind.version !== 'string') {
    return { ok: false, error: 'request.kind: required, {group, version, kind}' };
  }
  if (kind.group !== undefined && typeof kind.group !== 'string') {
    return { ok: false, error: 'request.kind.group: must be a string' };
  }
  if (typeof req.operation !== 'string' || !OPERATIONS.has(req.operation as Operation)) {
    return { ok: false, error: `request.operation: expected CREATE, UPDATE, DELETE or CONNECT, got ${describe(req.operation)}` };
  }
  for (const field of ['object', 'oldObject'] as const) {
    const v = req[field];
    if (v !== undefined && v !== null && !isObject(v)) return { ok: false, error: `request.${field}: must be an object` };
  }
  for (const field of ['name', 'namespace', 'subResource'] as const) {
    const v = req[field];
    if (v !== undefined && typeof v !== 'string') return { ok: false, error: `request.${field}: must be a string` };
  }
  if (req.dryRun !== undefined && req.dryRun !== null && typeof req.dryRun !== 'boolean') {
    return { ok: false, error: 'request.dryRun: must be true or false' };
  }
  const userInfo = isObject(req.userInfo) ? req.userInfo : {};
  const request = {
    ...req,
    kind: { group: (kind.group as string | undefined) ?? '', version: kind.version, kind: kind.kind },
    userInfo,
  } as unknown as AdmissionRequest;
  return { ok: true, review: { apiVersion: body.apiVersion, kind: 'AdmissionReview', request } };
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  return typeof value;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string; reason?: string };
  warnings?: string[];
  patchType?: 'JSONPatch';
  patch?: string;
  auditAnnotations?: Record<string, string>;
}

export function encodeAdmissionReview(apiVersion: string, response: AdmissionResponse): Record<string, unknown> {
  return { apiVersion, kind: 'AdmissionReview', response };
}
