/** A mistake on the command line: exit code 2, like kubectl. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `netfence: a Kubernetes admission webhook that keeps every namespace's network fenced

Usage:
  netfence serve  [--config F] [--port 8443] [--host 0.0.0.0] [--cert-dir certs] [--snapshot F]... [--kubeconfig F]
  netfence certs  [--out DIR] [--dns NAME]... [--ip IP]...
  netfence help

Exit codes: 0 success, 1 failure, 2 bad input.`;
