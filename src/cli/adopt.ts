import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describePlan, planAdoption, workloadOfPod, type AdoptionPlan } from '../baseline/adoption.ts';
import type { ManifestObject } from '../cluster/manifests.ts';
import { StaticClusterView } from '../cluster/static.ts';
import { builtInConfig, loadConfigFile } from '../config/load.ts';
import type { KubeObject } from '../k8s/types.ts';
import { KubeClient } from '../kube/client.ts';
import { loadTransport } from '../kube/config.ts';
import type { CliIO } from './io.ts';
import { UsageError } from './usage.ts';

/**
 * `netfence adopt NAMESPACE... | --all [--kubeconfig F] [--config F] [--dry-run] [-o text|json]`:
 * says what adopting each namespace will do to its traffic (which workloads lose which
 * connections to the baseline default-deny), then gives it the baseline labels with a JSON
 * patch (with --dry-run, sent as a server-side dry run). netfence itself then enforces its rules there, and its reconciler creates the baseline
 * policies. Exit 0 done (or dry run), 1 an API call failed, 2 bad input (an unknown or excluded
 * namespace named, bad flags): nothing is changed when any named namespace cannot be adopted.
 */
export async function adopt(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      all: { type: 'boolean', default: false },
      kubeconfig: { type: 'string' },
      config: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      output: { type: 'string', short: 'o', default: 'text' },
    },
  });
  if (values.all === (positionals.length > 0)) throw new UsageError('adopt: name the namespaces to adopt, or give --all (not both)');
  if (values.output !== 'text' && values.output !== 'json') throw new UsageError(`-o ${values.output}: use text or json`);
  const { config } = values.config ? loadConfigFile(values.config) : builtInConfig();
  const netfenceNamespace = process.env.POD_NAMESPACE || 'netfence-system';

  // As kubectl: --kubeconfig, else KUBECONFIG, else ~/.kube/config, else in-cluster.
  const home = join(homedir(), '.kube', 'config');
  const file = values.kubeconfig ?? (!process.env.KUBECONFIG && existsSync(home) ? home : undefined);
  let transport;
  try {
    transport = await loadTransport(file);
  } catch (err) {
    throw new UsageError(`${file ? `kubeconfig ${file}` : 'KUBECONFIG or the in-cluster credentials'}: cannot load it: ${(err as Error).message}`);
  }
  const client = new KubeClient(transport);
  try {
    const { view, workloads } = await readCluster(client, values.all ? undefined : positionals);
    const names = values.all ? view.namespaces().map((ns) => ns.name).sort() : [...new Set(positionals)];
    const plans = names.map((name) => planAdoption(config, view, name, netfenceNamespace, (pod) => workloads.get(`${pod.namespace}/${pod.name}`) ?? `Pod/${pod.name}`));
    // Named namespaces that cannot be adopted are mistakes; with --all they are skipped.
    const refused = values.all ? [] : plans.filter((p) => p.action === 'unknown' || p.action === 'excluded' || p.action === 'terminating');
    const todo = plans.filter((p) => p.action === 'adopt');
    if (values.output === 'json') {
      io.out(JSON.stringify({ dryRun: values['dry-run'], plans: values.all ? todo : plans }, null, 2));
    } else {
      for (const plan of values.all ? todo : plans) for (const line of describePlan(plan)) io.out(line);
      if (values.all) io.out(`${todo.length} namespace${todo.length === 1 ? '' : 's'} to adopt; ${plans.length - todo.length} adopted already, excluded or being deleted`);
    }
    if (refused.length > 0) {
      for (const p of refused) io.err(`netfence: ${p.reason}`);
      io.err('netfence: nothing was changed');
      return 2;
    }
    // A dry run sends the same patches with dryRun=All: the API server checks permissions and
    // admission (netfence's webhooks included) and stores nothing.
    const dryRun = values['dry-run'];
    for (const plan of todo) {
      await client.patch(`/api/v1/namespaces/${plan.namespace}`, labelPatch(plan), 'json', dryRun ? { dryRun: 'All' } : undefined);
      if (values.output === 'text' && !dryRun) io.out(`${plan.namespace}: adopted`);
    }
    if (dryRun && values.output === 'text') io.out('dry run: the API server accepted the labels; nothing was changed');
    return 0;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    io.err(`netfence: adopt: ${(err as Error).message} (API server ${client.server})`);
    return 1;
  } finally {
    client.close();
  }
}

/** A JSON patch that sets the baseline labels (every Namespace has labels: its name label). */
export function labelPatch(plan: AdoptionPlan): Array<{ op: 'add'; path: string; value: string }> {
  return plan.labels.map((l) => ({ op: 'add', path: `/metadata/labels/${l.key.replace(/~/g, '~0').replace(/\//g, '~1')}`, value: l.value }));
}

/** Namespaces, and the pods and policies of the namespaces asked about (all with --all). */
async function readCluster(client: KubeClient, only: readonly string[] | undefined): Promise<{ view: StaticClusterView; workloads: Map<string, string> }> {
  const objects: ManifestObject[] = [];
  const workloads = new Map<string, string>();
  const add = (kind: string, apiVersion: string) => (page: { items: Array<Record<string, unknown>> }): void => {
    for (const item of page.items) {
      const object = { ...item, apiVersion, kind } as KubeObject;
      if (kind === 'Pod') workloads.set(`${object.metadata?.namespace}/${object.metadata?.name}`, workloadOfPod(object));
      objects.push({ object, source: { file: client.server, document: 0, path: '' } });
    }
  };
  await client.listPages('/api/v1/namespaces', {}, add('Namespace', 'v1'));
  const known = new Set(objects.map((o) => o.object.metadata?.name));
  const scopes = only ? only.filter((n) => known.has(n)).map((n) => `/namespaces/${n}`) : [''];
  for (const scope of scopes) {
    await client.listPages(`/api/v1${scope}/pods`, {}, add('Pod', 'v1'));
    await client.listPages(`/apis/networking.k8s.io/v1${scope}/networkpolicies`, {}, add('NetworkPolicy', 'networking.k8s.io/v1'));
  }
  return { view: new StaticClusterView(objects, `cluster ${client.server}`), workloads };
}
