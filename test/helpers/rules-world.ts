import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { AdmissionContext } from '../../src/admission/context.ts';
import type { AdmissionRequest } from '../../src/admission/review.ts';
import { parseManifests, type ManifestObject } from '../../src/cluster/manifests.ts';
import { StaticClusterView } from '../../src/cluster/static.ts';
import { defaultConfig } from '../../src/config/default.ts';
import type { Mode, NetfenceConfig, Rule } from '../../src/config/types.ts';
import { validateConfig } from '../../src/config/validate.ts';
import type { KubeObject } from '../../src/k8s/types.ts';
import { PolicyIndex } from '../../src/netpol/index.ts';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/rules/${name}`, import.meta.url), 'utf8');

export const WORLD: ManifestObject[] = parseManifests(fixture('world.yaml'), 'world.yaml');

export interface ConfigChanges {
  modes?: Record<string, Mode>;
  addRules?: unknown[];
  removeRules?: string[];
  exemptions?: unknown[];
  baselineLabels?: Record<string, string>;
}

export function configWith(changes: ConfigChanges = {}): NetfenceConfig {
  const raw = defaultConfig() as unknown as { rules: Rule[]; exemptions: unknown[]; baseline: { labels: Record<string, string> } };
  if (changes.baselineLabels) raw.baseline.labels = changes.baselineLabels;
  raw.rules = raw.rules.filter((r) => !changes.removeRules?.includes(r.id)).map((r) => ({ ...r, mode: changes.modes?.[r.id] ?? r.mode }));
  raw.rules.push(...((changes.addRules ?? []) as Rule[]));
  raw.exemptions.push(...(changes.exemptions ?? []));
  const result = validateConfig(raw);
  if (!result.ok) throw new Error(`bad test config: ${JSON.stringify(result.errors)}`);
  return result.config;
}

export interface CaseRequest {
  kind: string;
  group?: string;
  operation?: 'CREATE' | 'UPDATE' | 'DELETE';
  namespace?: string;
  name?: string;
  user?: string;
  dryRun?: boolean;
  object?: KubeObject;
  oldObject?: KubeObject;
}

const GROUPS: Record<string, string> = { NetworkPolicy: 'networking.k8s.io', Pod: '', Namespace: '' };

export function admissionRequest(r: CaseRequest, uid = 'test'): AdmissionRequest {
  const group = r.group ?? GROUPS[r.kind] ?? '';
  const fill = (o: KubeObject | undefined): KubeObject | undefined =>
    o && { apiVersion: group ? `${group}/v1` : 'v1', kind: r.kind, ...o, metadata: { name: r.name ?? 'subject', ...(r.namespace ? { namespace: r.namespace } : {}), ...o.metadata } };
  return {
    uid,
    kind: { group, version: 'v1', kind: r.kind },
    operation: r.operation ?? 'CREATE',
    ...(r.namespace ? { namespace: r.namespace } : {}),
    name: r.name ?? r.object?.metadata?.name ?? r.oldObject?.metadata?.name ?? 'subject',
    userInfo: { username: r.user ?? 'alice', groups: ['system:authenticated'] },
    dryRun: r.dryRun ?? false,
    object: fill(r.object) ?? null,
    oldObject: fill(r.oldObject) ?? null,
  };
}

export function contextFor(request: AdmissionRequest, options: { config?: NetfenceConfig; now?: string; extraObjects?: KubeObject[] } = {}): AdmissionContext {
  const extra = (options.extraObjects ?? []).map((object) => ({ object, source: { file: 'case', document: 0, path: '' } }));
  const cluster = new StaticClusterView([...WORLD, ...extra]);
  return {
    request,
    config: options.config ?? configWith(),
    cluster,
    index: new PolicyIndex(cluster),
    now: new Date(options.now ?? '2026-11-21T12:00:00Z'),
    netfenceNamespace: 'netfence-system',
  };
}

export interface RuleCase {
  name: string;
  now?: string;
  config?: ConfigChanges;
  extraObjects?: KubeObject[];
  request: CaseRequest;
  expect: {
    decision: 'allow' | 'warn' | 'deny';
    violations: string[];
    exemptions?: string[];
    warnings?: number;
    message?: string;
    /** Text the denial (or the violations) must not contain. */
    notMessage?: string;
    /** rule:configuredMode of every violation recorded in audit because the namespace is not adopted. */
    downgraded?: string[];
  };
}

export function loadRuleCases(): { defaults: { now: string }; cases: RuleCase[] } {
  return parse(fixture('cases.yaml')) as { defaults: { now: string }; cases: RuleCase[] };
}
