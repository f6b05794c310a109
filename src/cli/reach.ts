import type { Protocol } from '../k8s/types.ts';
import { portNameError } from '../k8s/names.ts';
import { PolicyIndex } from '../netpol/index.ts';
import { evaluateConnection, type DirectionVerdict } from '../netpol/reach.ts';
import { parseEndpoint, type NamedEndpoint } from './endpoints.ts';
import { parseCommand, type CliIO } from './io.ts';
import { UsageError } from './usage.ts';
import { loadWorld } from './world.ts';

const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

function explain(d: DirectionVerdict, name: string): string {
  const dir = d.direction === 'Ingress' ? 'ingress' : 'egress';
  if (!d.pod) return `${dir}: the ${d.direction === 'Ingress' ? 'destination' : 'source'} is outside the cluster; no policy applies`;
  if (!d.isolated) return `${dir} of ${name}: not isolated (no policy selects it for ${dir}), so everything is allowed`;
  const by = `isolated by ${d.policies.join(', ')}`;
  if (d.admittedBy) return `${dir} of ${name}: ${by}; admitted by policy ${d.admittedBy.policy}, rule ${d.admittedBy.path}`;
  return `${dir} of ${name}: ${by}; no rule of theirs admits this connection`;
}

/** `--port`: a number, or a port name (checked here, resolved on the destination later). */
export function parsePortFlag(text: string): number | string {
  if (/^\d+$/.test(text)) {
    const port = Number(text);
    if (port < 1 || port > 65535) throw new UsageError(`--port ${text}: must be a port number between 1 and 65535, or a port name`);
    return port;
  }
  const nameError = portNameError(text);
  if (nameError) throw new UsageError(`--port ${text}: neither a port number nor a valid port name (${nameError})`);
  return text;
}

/** A port name resolved on the destination's container ports, with the protocol, as a NetworkPolicy's named port is. */
export function resolvePortName(name: string, protocol: Protocol, to: NamedEndpoint): number {
  if (to.endpoint.kind !== 'pod') throw new UsageError(`--port ${name}: a port name is resolved on the destination pod, and ${to.name} is an address; give a number`);
  const ports = to.endpoint.pod.ports;
  const found = ports.find((p) => p.name === name && p.protocol === protocol);
  if (!found) {
    const declared = ports.map((p) => `${p.protocol}/${p.containerPort}${p.name ? ` (${p.name})` : ''}`).join(', ');
    throw new UsageError(`--port ${name}: ${to.name} declares no ${protocol} port named ${name} (${declared ? `its ports: ${declared}` : 'it declares no container ports'})`);
  }
  return found.containerPort;
}

/** `netfence reach`: exit 0 allowed, 1 denied, 2 bad input. */
export async function reach(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(
    args,
    { from: { type: 'string' }, to: { type: 'string' }, port: { type: 'string' }, protocol: { type: 'string', default: 'TCP' } },
    ['text', 'json'] as const,
  );
  const values = parsed.values as Record<string, string | undefined>;
  if (!values.from || !values.to) throw new UsageError('--from and --to are required');
  if (values.port === undefined || values.port === '') throw new UsageError('--port is required (a number, or a port name of the destination)');
  const protocol = (values.protocol ?? 'TCP').toUpperCase() as Protocol;
  if (!PROTOCOLS.includes(protocol)) throw new UsageError(`--protocol ${values.protocol}: use TCP, UDP or SCTP`);
  const portFlag = parsePortFlag(values.port);

  const { view } = await loadWorld(parsed);
  const from = parseEndpoint('--from', values.from, view);
  const to = parseEndpoint('--to', values.to, view);
  if (from.endpoint.kind === 'address' && to.endpoint.kind === 'address') {
    throw new UsageError('--from and --to are both addresses outside the cluster: at least one end must be a pod or workload');
  }
  const portName = typeof portFlag === 'string' ? portFlag : undefined;
  const port = typeof portFlag === 'number' ? portFlag : resolvePortName(portFlag, protocol, to);
  const verdict = evaluateConnection(new PolicyIndex(view), { from: from.endpoint, to: to.endpoint, port, protocol });
  if (parsed.output === 'json') {
    const direction = (d: DirectionVerdict, e: NamedEndpoint): DirectionVerdict => (d.pod ? { ...d, pod: e.name } : d);
    io.out(
      JSON.stringify(
        { allowed: verdict.allowed, from: from.name, to: to.name, port, ...(portName ? { portName } : {}), protocol, egress: direction(verdict.egress, from), ingress: direction(verdict.ingress, to) },
        null,
        2,
      ),
    );
  } else {
    io.out(`${verdict.allowed ? 'allowed' : 'denied'}: ${from.name} -> ${to.name} ${protocol}/${port}${portName ? ` (${portName})` : ''}`);
    io.out(`  ${explain(verdict.egress, from.name)}`);
    io.out(`  ${explain(verdict.ingress, to.name)}`);
  }
  return verdict.allowed ? 0 : 1;
}
