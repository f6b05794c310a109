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
  netfence check  -f FILE... [--config F] [-o text|json]
                  judges the manifests as admission would (CREATE); exit 0 clean, 1 violations, 2 bad input
  netfence reach  -f FILE... --from SRC --to DST --port N [--protocol TCP|UDP|SCTP] [-o text|json]
                  SRC/DST: namespace/pod-name of a pod in the manifests, or an address outside the cluster
  netfence exposure -f FILE... [--namespace NS] [--tier NAME [--config F]] [-o text|json]
  netfence report (-f FILE... | --kubeconfig F) [--decisions LOG]... [--config F] [-o html|json|markdown] [--out FILE]
                  coverage, violations, exemptions, tier reach, who reaches whom, denials: one self-contained file
  netfence help

Exit codes: 0 success (reach: allowed), 1 failure (reach: denied), 2 bad input.`;
