import type { KubeClient } from '../kube/client.ts';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../baseline/plan.ts';
import { REPORT_API_VERSION, REPORT_NAME, reportContent, type PolicyReport } from './policy-report.ts';

/** A report as stored: what is in it (for "write only when it changed") and its version. */
export interface StoredReport {
  content: string;
  resourceVersion: string;
}

/** Where PolicyReports go: the API server, or a fake in tests. Scope '' is the ClusterPolicyReport. */
export interface ReportWriter {
  /** Whether the cluster serves the wgpolicyk8s.io/v1alpha2 PolicyReport CRDs. */
  installed(): Promise<boolean>;
  /** netfence's reports in the cluster now, by scope. */
  list(): Promise<Map<string, StoredReport>>;
  /** Creates (no resourceVersion) or replaces the report; resolves with its new resourceVersion. */
  write(report: PolicyReport, resourceVersion?: string): Promise<string>;
}

const BASE = `/apis/${REPORT_API_VERSION}`;

function pathOf(namespace: string | undefined, name?: string): string {
  const collection = namespace === undefined ? `${BASE}/clusterpolicyreports` : `${BASE}/namespaces/${encodeURIComponent(namespace)}/policyreports`;
  return name === undefined ? collection : `${collection}/${encodeURIComponent(name)}`;
}

/** The ReportWriter over the plain-JSON API client. */
export function kubeReportWriter(client: KubeClient): ReportWriter {
  return {
    async installed() {
      const group = await client.get<{ resources?: Array<{ name?: string }> }>(BASE);
      const names = new Set((group?.resources ?? []).map((r) => r.name));
      return names.has('policyreports') && names.has('clusterpolicyreports');
    },
    async list() {
      const out = new Map<string, StoredReport>();
      const labelSelector = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
      for (const [path, cluster] of [[`${BASE}/policyreports`, false], [`${BASE}/clusterpolicyreports`, true]] as const) {
        await client.listPages(path, { labelSelector, limit: 500 }, (page) => {
          for (const item of page.items as unknown as PolicyReport[]) {
            if (item.metadata.name !== REPORT_NAME) continue;
            out.set(cluster ? '' : (item.metadata.namespace ?? ''), { content: reportContent(item), resourceVersion: item.metadata.resourceVersion ?? '' });
          }
        });
      }
      return out;
    },
    async write(report, resourceVersion) {
      const ns = report.metadata.namespace;
      const stored = resourceVersion
        ? await client.replace<PolicyReport>(pathOf(ns, REPORT_NAME), { ...report, metadata: { ...report.metadata, resourceVersion } })
        : await client.create<PolicyReport>(pathOf(ns), report);
      return stored.metadata.resourceVersion ?? '';
    },
  };
}
