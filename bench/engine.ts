// Engine benchmarks: one reach query and one "what does this policy admit" analysis in a
// namespace holding 500 policies and 2,000 pods. Target: median under 1 ms each.
import { evaluate } from '../src/admission/admit.ts';
import type { AdmissionContext } from '../src/admission/context.ts';
import { defaultHandlers } from '../src/admission/registry.ts';
import { buildResponse } from '../src/admission/respond.ts';
import { decodeAdmissionReview } from '../src/admission/review.ts';
import { builtInConfig } from '../src/config/load.ts';
import { admitsAllPorts, admitsClass, reachesTier } from '../src/netpol/analysis.ts';
import { PolicyIndex } from '../src/netpol/index.ts';
import { rulesOf } from '../src/netpol/policy.ts';
import { evaluateConnection, type Endpoint } from '../src/netpol/reach.ts';
import { CompiledSelector } from '../src/netpol/selector.ts';
import { PEER_CLASSES } from '../src/config/types.ts';
import { bigNamespace } from './cluster.ts';
import { networkPolicyReview } from './reviews.ts';
import { fmtUs, timeIt } from './timing.ts';

export function engineBenchmark(): void {
  const view = bigNamespace();
  const index = new PolicyIndex(view);
  const pods = view.pods('big');
  const ns = view.namespace('big')!;
  const endpoints: Endpoint[] = pods.map((pod) => ({ kind: 'pod', pod, namespace: ns }));
  console.log(`Engine benchmark: ${view.describe()}`);

  const reach = timeIt((i) =>
    evaluateConnection(index, { from: endpoints[(i * 7919) % endpoints.length]!, to: endpoints[(i * 104729) % endpoints.length]!, port: 8080, protocol: 'TCP' }),
  );
  console.log(`  reach query (pod to pod, 500 policies):        ${fmtUs(reach)}  (target: median < 1 ms)`);

  const policies = index.policies('big');
  const tier = new CompiledSelector({ matchLabels: { tier: 'data' } });
  const analysis = timeIt((i) => {
    const policy = policies[i % policies.length]!;
    const findings = [];
    findings.push(reachesTier(policy, tier, (...s) => index.findPod('big', ...s)));
    for (const direction of ['Ingress', 'Egress'] as const) {
      for (const rule of rulesOf(policy, direction)) {
        for (const c of PEER_CLASSES) findings.push(admitsClass(rule, c, policy.namespace, index));
        findings.push(admitsAllPorts(rule));
      }
    }
    return findings;
  });
  console.log(`  policy analysis (classes, ports, tier reach):  ${fmtUs(analysis)}  (target: median < 1 ms)`);

  // The whole decision for a NetworkPolicy review in that namespace: decode, every rule of the
  // built-in config, the response. Each request brings a new object, so it is compiled anew.
  const { config } = builtInConfig();
  const handlers = defaultHandlers();
  const decision = timeIt((i) => {
    const body = networkPolicyReview(`bench-${i}`);
    const request = body.request as { namespace: string; object: { metadata: { namespace: string } } };
    request.namespace = 'big';
    request.object.metadata.namespace = 'big';
    const decoded = decodeAdmissionReview(body);
    if (!decoded.ok) throw new Error(decoded.error);
    const ctx: AdmissionContext = { request: decoded.review.request, config, cluster: view, index, now: new Date(), netfenceNamespace: 'netfence-system' };
    return buildResponse(ctx.request, evaluate(ctx, handlers, 'validate'));
  });
  console.log(`  NetworkPolicy review decision (built-in rules): ${fmtUs(decision)}  (target: median < 0.5 ms)`);
}
