import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadClusterInput } from '../cluster/input.ts';
import type { ManifestObject } from '../cluster/manifests.ts';
import { StaticClusterView } from '../cluster/static.ts';
import { builtInConfig, loadConfigFile } from '../config/load.ts';
import { readDecisionLogs } from '../report/decisions.ts';
import { renderHtml } from '../report/html.ts';
import { renderMarkdown } from '../report/markdown.ts';
import { buildReport, type ReportData } from '../report/model.ts';
import type { CliIO } from './io.ts';
import { UsageError } from './usage.ts';

const FORMATS = ['html', 'json', 'markdown'] as const;
type Format = (typeof FORMATS)[number];

/** What a live report lists (read-only): what the audit judges. */
const LIVE_COLLECTIONS: ReadonlyArray<readonly [string, string, string]> = [
  ['/api/v1/namespaces', 'v1', 'Namespace'],
  ['/api/v1/pods', 'v1', 'Pod'],
  ['/apis/networking.k8s.io/v1/networkpolicies', 'networking.k8s.io/v1', 'NetworkPolicy'],
  ['/apis/apps/v1/deployments', 'apps/v1', 'Deployment'],
  ['/apis/apps/v1/statefulsets', 'apps/v1', 'StatefulSet'],
  ['/apis/apps/v1/daemonsets', 'apps/v1', 'DaemonSet'],
  ['/apis/apps/v1/replicasets', 'apps/v1', 'ReplicaSet'],
  ['/apis/batch/v1/jobs', 'batch/v1', 'Job'],
  ['/apis/batch/v1/cronjobs', 'batch/v1', 'CronJob'],
];

async function liveObjects(kubeconfig: string): Promise<ManifestObject[]> {
  const { loadKubeConfig } = await import('../kube/config.ts');
  const { KubeClient } = await import('../kube/client.ts');
  const client = await KubeClient.fromKubeConfig(await loadKubeConfig(kubeconfig));
  const out: ManifestObject[] = [];
  try {
    for (const [path, apiVersion, kind] of LIVE_COLLECTIONS) {
      await client.listPages(path, { limit: 500 }, (page) => {
        // Only what the audit reads is kept: a list of thousands of full Pods is not held.
        for (const item of page.items) out.push({ object: { ...item, apiVersion, kind, ...(kind === 'Pod' ? { status: undefined } : {}) }, source: { file: path, document: out.length, path: '' } });
      });
    }
  } finally {
    client.close();
  }
  return out;
}

/**
 * `netfence report`: coverage, violations of existing objects, exemptions, tier reach, who can
 * reach whom and, from decision logs, denials — as one self-contained HTML file, JSON or Markdown.
 */
export async function report(args: string[], io: CliIO, clock: () => Date = () => new Date()): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      file: { type: 'string', short: 'f', multiple: true },
      decisions: { type: 'string', multiple: true },
      kubeconfig: { type: 'string' },
      config: { type: 'string' },
      output: { type: 'string', short: 'o', default: 'html' },
      out: { type: 'string' },
      now: { type: 'string' },
    },
  });
  const files = values.file ?? [];
  if (files.length === 0 && !values.kubeconfig) throw new UsageError('give manifests (-f FILE...) or a live cluster (--kubeconfig FILE)');
  if (files.length > 0 && values.kubeconfig) throw new UsageError('-f and --kubeconfig: give one or the other');
  const format = values.output as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`-o ${values.output}: use html, json or markdown`);
  const now = values.now === undefined ? clock() : new Date(values.now);
  if (Number.isNaN(now.getTime())) throw new UsageError(`--now ${values.now}: not an RFC 3339 time`);
  const loaded = values.config ? loadConfigFile(values.config) : builtInConfig();
  const view = values.kubeconfig
    ? new StaticClusterView(await liveObjects(values.kubeconfig), `live cluster (${values.kubeconfig})`)
    : loadClusterInput(files).view;
  for (const f of values.decisions ?? []) {
    try {
      const { statSync } = await import('node:fs');
      if (!statSync(f).isFile()) throw new Error('not a file');
    } catch {
      throw new UsageError(`--decisions ${f}: no such file`);
    }
  }
  const decisions = values.decisions?.length ? await readDecisionLogs(values.decisions) : undefined;
  const data: ReportData = buildReport({ view, config: loaded.config, configHash: loaded.hash, now, netfenceNamespace: process.env.POD_NAMESPACE || 'netfence-system', ...(decisions ? { decisions } : {}) });
  const text = format === 'json' ? `${JSON.stringify(data, null, 2)}\n` : format === 'markdown' ? renderMarkdown(data) : renderHtml(data);
  if (values.out) {
    writeFileSync(values.out, text);
    io.err(`netfence: report written to ${values.out} (${format}, ${data.coverage.namespaces} namespaces, ${data.violations.total} violations)`);
  } else {
    process.stdout.write(text);
  }
  return 0;
}
