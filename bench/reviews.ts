// Realistic AdmissionReviews for the benchmark: what the API server sends for a NetworkPolicy
// CREATE (with managedFields, as kubectl apply leaves them) and for a Pod CREATE.

export function networkPolicyReview(uid: string): Record<string, unknown> {
  const object = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: 'api-from-frontend',
      namespace: 'shop',
      uid: '6f1f6d0e-3c1b-4f7a-9a4e-2f3b1c0d9e8a',
      creationTimestamp: '2026-11-21T10:00:00Z',
      labels: { app: 'api', 'app.kubernetes.io/part-of': 'shop' },
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration':
          '{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"annotations":{},"name":"api-from-frontend","namespace":"shop"},"spec":{"podSelector":{"matchLabels":{"app":"api"}},"policyTypes":["Ingress","Egress"],"ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"frontend"}}}],"ports":[{"protocol":"TCP","port":8080}]}]}}\n',
      },
      managedFields: [
        {
          manager: 'kubectl-client-side-apply',
          operation: 'Update',
          apiVersion: 'networking.k8s.io/v1',
          time: '2026-11-21T10:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:metadata': { 'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} } }, 'f:spec': { 'f:ingress': {}, 'f:podSelector': {}, 'f:policyTypes': {} } },
        },
      ],
    },
    spec: {
      podSelector: { matchLabels: { app: 'api' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [
            { podSelector: { matchLabels: { app: 'frontend' } } },
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { app: 'prometheus' } } },
          ],
          ports: [{ protocol: 'TCP', port: 8080 }, { protocol: 'TCP', port: 'metrics' }],
        },
      ],
      egress: [
        { to: [{ podSelector: { matchLabels: { tier: 'data' } } }], ports: [{ protocol: 'TCP', port: 5432 }] },
        { to: [{ ipBlock: { cidr: '10.20.0.0/16', except: ['10.20.1.0/24'] } }], ports: [{ protocol: 'TCP', port: 443 }] },
      ],
    },
  };
  return envelope(uid, { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' }, 'networkpolicies', 'shop', object);
}

export function podReview(uid: string): Record<string, unknown> {
  const object = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'api-7d9f8b6c5-',
      namespace: 'shop',
      labels: { app: 'api', tier: 'logic', 'pod-template-hash': '7d9f8b6c5' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'api-7d9f8b6c5', uid: 'a1b2', controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      serviceAccountName: 'api',
      containers: [
        {
          name: 'api',
          image: 'registry.example/shop/api:1.42.0',
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { name: 'metrics', containerPort: 9090, protocol: 'TCP' }],
          env: [{ name: 'DB_HOST', value: 'postgres.shop.svc' }, { name: 'LOG_LEVEL', value: 'info' }],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5 },
          securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ],
      volumes: [{ name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }] } }],
    },
  };
  return envelope(uid, { group: '', version: 'v1', kind: 'Pod' }, 'pods', 'shop', object);
}

function envelope(
  uid: string,
  kind: { group: string; version: string; kind: string },
  resource: string,
  namespace: string,
  object: Record<string, unknown>,
): Record<string, unknown> {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind,
      resource: { group: kind.group, version: kind.version, resource },
      requestKind: kind,
      requestResource: { group: kind.group, version: kind.version, resource },
      name: (object.metadata as { name?: string }).name ?? '',
      namespace,
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', uid: 'u-1', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] },
      object,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions', fieldManager: 'kubectl-client-side-apply' },
    },
  };
}
