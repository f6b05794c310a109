import type { LabelSelector, Protocol } from '../k8s/types.ts';
import type { CompiledPort, CompiledRule } from './policy.ts';
import type { CompiledSelector } from './selector.ts';

// Words for explanations shared by the CLI and denial messages.

export function describePort(port: CompiledPort): string {
  if (port.name !== undefined) return `${port.protocol}/${port.name}`;
  const [from, to] = port.range!;
  if (from <= 1 && to >= 65535) return `${port.protocol}/*`;
  return from === to ? `${port.protocol}/${from}` : `${port.protocol}/${from}-${to}`;
}

export function describePorts(rule: CompiledRule): string {
  return rule.allPorts ? 'all ports' : rule.ports.map(describePort).join(', ');
}

/** A port as tools read it: `{protocol}` alone is every port of the protocol. */
export interface PortSpec {
  protocol: Protocol;
  port?: number;
  endPort?: number;
  /** The port's name, when the rule named it (port is then the number it resolved to, if known). */
  name?: string;
}

export function portSpec(port: CompiledPort, resolved?: number): PortSpec {
  if (port.name !== undefined) return { protocol: port.protocol, ...(resolved !== undefined ? { port: resolved } : {}), name: port.name };
  const [from, to] = port.range!;
  if (from <= 1 && to >= 65535) return { protocol: port.protocol };
  return from === to ? { protocol: port.protocol, port: from } : { protocol: port.protocol, port: from, endPort: to };
}

export function formatPortSpec(p: PortSpec): string {
  if (p.port === undefined) return p.name !== undefined ? `${p.protocol}/${p.name}` : `${p.protocol}/*`;
  const number = p.endPort !== undefined ? `${p.port}-${p.endPort}` : `${p.port}`;
  return `${p.protocol}/${number}${p.name !== undefined ? ` (${p.name})` : ''}`;
}

/** A label selector as kubectl prints one: `app=web,tier in (a,b),!legacy`; '' for `{}`. */
export function describeSelector(selector: CompiledSelector): string {
  return selector.requirements
    .map((r) => {
      const values = [...r.values].sort();
      switch (r.operator) {
        case 'In':
          return values.length === 1 ? `${r.key}=${values[0]}` : `${r.key} in (${values.join(',')})`;
        case 'NotIn':
          return `${r.key} notin (${values.join(',')})`;
        case 'Exists':
          return r.key;
        case 'DoesNotExist':
          return `!${r.key}`;
      }
    })
    .join(',');
}

/** The same for a selector not compiled (from the config). */
export function describeLabelSelector(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    parts.push(e.operator === 'In' ? `${e.key} in (${values})` : e.operator === 'NotIn' ? `${e.key} notin (${values})` : e.operator === 'Exists' ? e.key : `!${e.key}`);
  }
  return parts.join(',');
}
