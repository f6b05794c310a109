// Memory per cached pod: what the live view keeps (PodInfo: labels, container ports, IPs)
// against keeping the Pod objects the API server sends. Needs node --expose-gc.
import { podInfo } from '../src/k8s/objects.ts';
import type { KubeObject, PodInfo } from '../src/k8s/types.ts';
import { podReview } from './reviews.ts';

const gc = (globalThis as { gc?: () => void }).gc;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage().heapUsed;
}

/** A pod as a list or watch returns it: its object plus status, owner, managed fields. */
function apiPod(i: number): KubeObject {
  const obj = structuredClone((podReview('x').request as { object: KubeObject }).object);
  obj.metadata = {
    ...obj.metadata,
    name: `api-7d9f8b6c5-${i.toString(36).padStart(5, '0')}`,
    uid: `6f1f6d0e-3c1b-4f7a-9a4e-${i.toString(16).padStart(12, '0')}`,
    resourceVersion: String(100000 + i),
    creationTimestamp: '2026-11-21T10:00:00Z',
    labels: { app: 'api', tier: 'logic', 'pod-template-hash': `h${i % 50}`, shard: `s${i % 7}` },
    managedFields: [{ manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', time: '2026-11-21T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': {} }, 'f:spec': { 'f:containers': {} } } }],
  };
  obj.status = {
    phase: 'Running',
    podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    podIPs: [{ ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }],
    hostIP: '192.168.1.10',
    conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-11-21T10:00:05Z' }],
    containerStatuses: [{ name: 'api', ready: true, restartCount: 0, image: 'registry.example/shop/api:1.42.0', imageID: 'sha256:abc', containerID: 'containerd://def', started: true, state: { running: { startedAt: '2026-11-21T10:00:04Z' } } }],
  };
  return obj;
}

export function memoryBenchmark(count = 20_000): void {
  if (!gc) {
    console.log('Memory benchmark: skipped (run node with --expose-gc)');
    return;
  }
  const measure = (make: (i: number) => unknown): number => {
    const before = heapAfterGc();
    const kept: unknown[] = [];
    for (let i = 0; i < count; i++) kept.push(make(i));
    const after = heapAfterGc();
    if (kept.length !== count) throw new Error('unreachable');
    return (after - before) / count;
  };
  const slim = measure((i) => podInfo(apiPod(i)) satisfies PodInfo);
  const full = measure((i) => apiPod(i));
  console.log(`Memory per cached pod (${count} pods): ${Math.round(slim)} bytes as kept by the live view, ${Math.round(full)} bytes for the full Pod object (${(full / slim).toFixed(1)}x)`);
}
