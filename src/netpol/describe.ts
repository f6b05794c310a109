import type { CompiledPort, CompiledRule } from './policy.ts';

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
