/** A mistake on the command line: exit code 2, like kubectl. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** One paragraph per command: `netfence COMMAND --help` prints it, `netfence help` all of them. */
export const COMMAND_USAGE: Readonly<Record<string, string>> = {
  serve: `netfence serve [--config F] [--port 8443] [--host 0.0.0.0] [--cert-dir certs | --cert-secret NAME] [--snapshot F]... [--kubeconfig F]
    [--webhook-configuration netfence] [--service netfence] [--failure-policy Fail|Ignore] [--ca-validity 26280h] [--serving-validity 2160h]
    runs the admission webhook over HTTPS; --cert-secret: self-managed certificates in that Secret (needs a cluster)`,
  certs: `netfence certs [--out DIR] [--dns NAME]... [--ip IP]... [--namespace netfence-system] [--force]
    writes a CA and a serving certificate; an existing CA is replaced only with --force`,
  check: `netfence check -f FILE... [--kubeconfig F | --live] [--config F] [--no-baseline] [-o text|json|sarif|junit]
    judges the manifests as admission would, assuming the baseline policies netfence keeps in
    the namespaces it manages (--no-baseline: only what the files and cluster hold); with a
    cluster: "what would admission say if I applied this now" (the files over the live objects)
    exit 0 clean (warnings allowed), 1 violations, 2 bad input`,
  reach: `netfence reach [-f FILE...] [--kubeconfig F | --live] --from SRC --to DST --port N|NAME [--protocol TCP|UDP|SCTP] [-o text|json]
    whether the NetworkPolicies allow one connection
    SRC/DST: NAMESPACE/NAME (a pod, else a workload of that name), NAMESPACE/KIND/NAME
    (production/deployment/api), or an IPv4/IPv6 address outside the cluster
    exit 0 allowed, 1 denied, 2 bad input`,
  exposure: `netfence exposure [-f FILE...] [--kubeconfig F | --live] [--namespace NS] [--tier NAME [--config F]] [-o text|json]
    for each workload and pod: who can reach it (ingress) and what it can reach (egress), on which ports, through which rule
    exit 0, 2 bad input`,
  diff: `netfence diff (--before F... | --kubeconfig F | --live) --after F... [--config F] [-o text|json]
    what a change of NetworkPolicies newly admits and no longer admits, per workload and pod,
    per tier (a pod of the tier in each namespace), and per connection between them; with a
    cluster as the before, the after is the cluster with the files applied
    exit 0 nothing opened, 1 something opened, 2 bad input`,
  adopt: `netfence adopt NAMESPACE... | --all [--kubeconfig F] [--config F] [--dry-run] [-o text|json]
    says what adopting each namespace does to its traffic, then labels it (enforced from then on)`,
  report: `netfence report (-f FILE... | --kubeconfig F) [--decisions LOG]... [--config F] [-o html|json|markdown] [--out FILE] [--now T]
    for auditors: coverage, violations of existing objects, exemptions, tier reach, who reaches
    whom, denials from decision logs; HTML is one self-contained file. exit 0, 2 bad input`,
};

export const USAGE = `netfence: a Kubernetes admission webhook that keeps every namespace's network fenced

Usage:
${Object.values(COMMAND_USAGE)
  .map((u) => `  ${u.replace(/\n/g, '\n  ')}`)
  .join('\n')}
  netfence help | netfence COMMAND --help | netfence --version

--kubeconfig F reads the cluster of F's current context; --live the current context of
$KUBECONFIG or ~/.kube/config (in a pod: the in-cluster one). Reads only (list).

Exit codes: 0 success (reach: allowed), 1 failure (reach: denied), 2 bad input or usage,
3 internal error (a bug; NETFENCE_DEBUG=1 prints its stack).`;
