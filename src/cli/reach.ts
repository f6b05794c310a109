import { loadClusterInput } from '../cluster/input.ts';
import type { StaticClusterView } from '../cluster/static.ts';
import type { Protocol } from '../k8s/types.ts';
import { parseIP } from '../netpol/cidr.ts';
import { PolicyIndex } from '../netpol/index.ts';
import { evaluateConnection, type DirectionVerdict, type Endpoint } from '../netpol/reach.ts';
import { parseManifestCommand, type CliIO } from './io.ts';
import { UsageError } from './usage.ts';

const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

/** `namespace/pod-name` for a pod of the manifests, or an address outside the cluster. */
export function parseEndpoint(flag: string, text: string, view: StaticClusterView): Endpoint {
  const ip = parseIP(text);
  if (ip) return { kind: 'address', family: ip.family, value: ip.value, text };
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1 || text.indexOf('/', slash + 1) >= 0) {
    throw new UsageError(`${flag} ${text}: expected namespace/pod-name or an IPv4/IPv6 address`);
  }
  const namespace = text.slice(0, slash);
  const name = text.slice(slash + 1);
  const pods = view.pods(namespace);
  const pod = pods.find((p) => p.name === name);
  if (!pod) {
    const known = pods.map((p) => p.name).sort();
    const hint = known.length ? `pods in ${namespace}: ${known.join(', ')}` : `the manifests have no pods in namespace ${namespace}`;
    throw new UsageError(`${flag} ${text}: no such pod in the manifests (${hint})`);
  }
  return { kind: 'pod', pod, namespace: view.namespace(namespace)! };
}

function endpointName(e: Endpoint): string {
  return e.kind === 'pod' ? `${e.pod.namespace}/${e.pod.name}` : e.text;
}

function explain(d: DirectionVerdict): string {
  const dir = d.direction === 'Ingress' ? 'ingress' : 'egress';
  if (!d.pod) return `${dir}: the ${d.direction === 'Ingress' ? 'destination' : 'source'} is outside the cluster; no policy applies`;
  if (!d.isolated) return `${dir} of ${d.pod}: not isolated (no policy selects it for ${dir}), so everything is allowed`;
  const by = `isolated by ${d.policies.join(', ')}`;
  if (d.admittedBy) return `${dir} of ${d.pod}: ${by}; admitted by policy ${d.admittedBy.policy}, rule ${d.admittedBy.path}`;
  return `${dir} of ${d.pod}: ${by}; no rule of theirs admits this connection`;
}

/** `netfence reach`: exit 0 allowed, 1 denied, 2 bad input. */
export function reach(args: string[], io: CliIO): number {
  const { values, files, output } = parseManifestCommand(args, {
    from: { type: 'string' },
    to: { type: 'string' },
    port: { type: 'string' },
    protocol: { type: 'string', default: 'TCP' },
  });
  if (!values.from || !values.to) throw new UsageError('--from and --to are required');
  if (values.port === undefined) throw new UsageError('--port is required');
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port < 1 || port > 65535) throw new UsageError(`--port ${values.port}: must be a port number between 1 and 65535`);
  const protocol = (values.protocol ?? 'TCP').toUpperCase() as Protocol;
  if (!PROTOCOLS.includes(protocol)) throw new UsageError(`--protocol ${values.protocol}: use TCP, UDP or SCTP`);

  const { view } = loadClusterInput(files);
  const from = parseEndpoint('--from', values.from, view);
  const to = parseEndpoint('--to', values.to, view);
  if (from.kind === 'address' && to.kind === 'address') {
    throw new UsageError('--from and --to are both addresses outside the cluster: at least one end must be a pod');
  }
  const verdict = evaluateConnection(new PolicyIndex(view), { from, to, port, protocol });
  if (output === 'json') {
    io.out(JSON.stringify({ allowed: verdict.allowed, from: endpointName(from), to: endpointName(to), port, protocol, egress: verdict.egress, ingress: verdict.ingress }, null, 2));
  } else {
    io.out(`${verdict.allowed ? 'allowed' : 'denied'}: ${endpointName(from)} -> ${endpointName(to)} ${protocol}/${port}`);
    io.out(`  ${explain(verdict.egress)}`);
    io.out(`  ${explain(verdict.ingress)}`);
  }
  return verdict.allowed ? 0 : 1;
}
