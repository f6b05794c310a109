import { dnsSubdomainError, portNameError } from '../k8s/names.ts';
import { isObject } from '../k8s/types.ts';
import { fieldPath, type FieldError } from '../util/field-errors.ts';
import { parseCidr } from './cidr.ts';
import { validateLabelSelector } from './selector.ts';

// The checks of the API server's ValidateNetworkPolicy, so that `check`, `reach` and the
// config loader refuse what a cluster would refuse, with the same field paths.

const PROTOCOLS = new Set(['TCP', 'UDP', 'SCTP']);
const POLICY_TYPES = new Set(['Ingress', 'Egress']);

/** Validates a whole NetworkPolicy object (metadata.name and spec). */
export function validateNetworkPolicy(obj: unknown): FieldError[] {
  const errors: FieldError[] = [];
  if (!isObject(obj)) return [{ path: '', message: 'must be a NetworkPolicy object' }];
  const meta = obj.metadata;
  if (!isObject(meta) || typeof meta.name !== 'string' || meta.name === '') {
    if (!(isObject(meta) && typeof meta.generateName === 'string')) {
      errors.push({ path: 'metadata.name', message: 'required: a NetworkPolicy needs a name' });
    }
  } else {
    const nameError = dnsSubdomainError(meta.name);
    if (nameError) errors.push({ path: 'metadata.name', message: nameError });
  }
  validateNetworkPolicySpec(obj.spec, 'spec', errors);
  return errors;
}

export function validateNetworkPolicySpec(spec: unknown, path: string, errors: FieldError[]): void {
  if (!isObject(spec)) {
    errors.push({ path, message: 'required: a NetworkPolicy needs a spec with a podSelector' });
    return;
  }
  if (spec.podSelector === undefined || spec.podSelector === null) {
    // The API server defaults a missing podSelector to {} only in typed clients; in JSON it is required.
    errors.push({ path: fieldPath(path, 'podSelector'), message: 'required: use {} to select every pod in the namespace' });
  } else {
    validateLabelSelector(spec.podSelector, fieldPath(path, 'podSelector'), errors);
  }
  validateRules(spec.ingress, fieldPath(path, 'ingress'), 'from', errors);
  validateRules(spec.egress, fieldPath(path, 'egress'), 'to', errors);
  const typesPath = fieldPath(path, 'policyTypes');
  if (spec.policyTypes !== undefined && spec.policyTypes !== null) {
    if (!Array.isArray(spec.policyTypes)) {
      errors.push({ path: typesPath, message: 'must be a list of Ingress and/or Egress' });
    } else {
      if (spec.policyTypes.length > 2) errors.push({ path: typesPath, message: 'may not specify more than two policyTypes' });
      spec.policyTypes.forEach((t, i) => {
        if (typeof t !== 'string' || !POLICY_TYPES.has(t)) {
          errors.push({ path: fieldPath(typesPath, i), message: `unsupported value ${JSON.stringify(t)}: use "Ingress" or "Egress"` });
        }
      });
    }
  }
}

function validateRules(rules: unknown, path: string, peersKey: 'from' | 'to', errors: FieldError[]): void {
  if (rules === undefined || rules === null) return;
  if (!Array.isArray(rules)) {
    errors.push({ path, message: 'must be a list of rules' });
    return;
  }
  rules.forEach((rule, i) => {
    const rulePath = fieldPath(path, i);
    if (rule === null) return; // `- {}` and `- null` both mean an empty rule to the API server.
    if (!isObject(rule)) {
      errors.push({ path: rulePath, message: `must be an object with ${peersKey} and ports` });
      return;
    }
    validatePorts(rule.ports, fieldPath(rulePath, 'ports'), errors);
    validatePeers(rule[peersKey], fieldPath(rulePath, peersKey), errors);
  });
}

function validatePorts(ports: unknown, path: string, errors: FieldError[]): void {
  if (ports === undefined || ports === null) return;
  if (!Array.isArray(ports)) {
    errors.push({ path, message: 'must be a list of {protocol, port, endPort}' });
    return;
  }
  ports.forEach((p, i) => {
    const portPath = fieldPath(path, i);
    if (!isObject(p)) {
      errors.push({ path: portPath, message: 'must be an object with protocol, port and endPort' });
      return;
    }
    if (p.protocol !== undefined && p.protocol !== null && !(typeof p.protocol === 'string' && PROTOCOLS.has(p.protocol))) {
      errors.push({ path: fieldPath(portPath, 'protocol'), message: `unsupported value ${JSON.stringify(p.protocol)}: use "TCP", "UDP" or "SCTP"` });
    }
    const portField = fieldPath(portPath, 'port');
    if (typeof p.port === 'number') {
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) {
        errors.push({ path: portField, message: `${p.port} is not a valid port: must be between 1 and 65535, inclusive` });
      }
    } else if (typeof p.port === 'string') {
      const nameError = portNameError(p.port);
      if (nameError) errors.push({ path: portField, message: `${JSON.stringify(p.port)} is not a valid port name: ${nameError}` });
    } else if (p.port !== undefined && p.port !== null) {
      errors.push({ path: portField, message: 'must be a port number or a named port' });
    }
    if (p.endPort !== undefined && p.endPort !== null) {
      const endField = fieldPath(portPath, 'endPort');
      if (typeof p.endPort !== 'number' || !Number.isInteger(p.endPort)) {
        errors.push({ path: endField, message: 'must be a port number' });
      } else if (typeof p.port === 'string') {
        errors.push({ path: endField, message: 'may not be specified when port is a named port' });
      } else if (typeof p.port !== 'number') {
        errors.push({ path: endField, message: 'may not be specified when port is not specified' });
      } else if (p.endPort < p.port) {
        errors.push({ path: endField, message: 'must be greater than or equal to port' });
      } else if (p.endPort > 65535) {
        errors.push({ path: endField, message: 'must be between 1 and 65535, inclusive' });
      }
    }
  });
}

function validatePeers(peers: unknown, path: string, errors: FieldError[]): void {
  if (peers === undefined || peers === null) return;
  if (!Array.isArray(peers)) {
    errors.push({ path, message: 'must be a list of peers' });
    return;
  }
  peers.forEach((peer, i) => {
    const peerPath = fieldPath(path, i);
    if (!isObject(peer)) {
      errors.push({ path: peerPath, message: 'must be an object with podSelector, namespaceSelector or ipBlock' });
      return;
    }
    const has = (k: string): boolean => peer[k] !== undefined && peer[k] !== null;
    const kinds = ['podSelector', 'namespaceSelector', 'ipBlock'].filter(has);
    if (kinds.length === 0) {
      errors.push({ path: peerPath, message: 'must specify a peer: podSelector, namespaceSelector or ipBlock' });
    } else if (has('ipBlock') && kinds.length > 1) {
      errors.push({ path: peerPath, message: 'may not specify more than 1 peer type: ipBlock cannot be combined with podSelector or namespaceSelector' });
    }
    validateLabelSelector(peer.podSelector, fieldPath(peerPath, 'podSelector'), errors);
    validateLabelSelector(peer.namespaceSelector, fieldPath(peerPath, 'namespaceSelector'), errors);
    if (has('ipBlock')) validateIPBlock(peer.ipBlock, fieldPath(peerPath, 'ipBlock'), errors);
  });
}

function validateIPBlock(block: unknown, path: string, errors: FieldError[]): void {
  if (!isObject(block)) {
    errors.push({ path, message: 'must be an object with cidr and except' });
    return;
  }
  const cidrPath = fieldPath(path, 'cidr');
  if (typeof block.cidr !== 'string' || block.cidr === '') {
    errors.push({ path: cidrPath, message: 'required: a CIDR such as 203.0.113.0/24' });
    return;
  }
  const cidr = parseCidr(block.cidr);
  if (!cidr) {
    errors.push({ path: cidrPath, message: `${JSON.stringify(block.cidr)} is not a valid CIDR (e.g. 203.0.113.0/24 or 2001:db8::/32)` });
    return;
  }
  if (block.except === undefined || block.except === null) return;
  const exceptPath = fieldPath(path, 'except');
  if (!Array.isArray(block.except)) {
    errors.push({ path: exceptPath, message: 'must be a list of CIDRs' });
    return;
  }
  block.except.forEach((text, i) => {
    const p = fieldPath(exceptPath, i);
    const ex = typeof text === 'string' ? parseCidr(text) : undefined;
    if (!ex) {
      errors.push({ path: p, message: `${JSON.stringify(text)} is not a valid CIDR` });
    } else if (ex.family !== cidr.family || ex.start < cidr.start || ex.start > cidr.end || ex.prefix <= cidr.prefix) {
      errors.push({ path: p, message: `${text} must be a strict subset of cidr ${block.cidr}` });
    }
  });
}
