import type { TestProject } from 'vitest/node';
import { startControlPlane, type ControlPlane } from './cluster/control-plane.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: { dir: string; server: string; kubeconfig: string; caCert: string; caKey: string };
  }
}

let plane: ControlPlane | undefined;

/** Starts the control plane once for the suite and tears it down after, failures included. */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  plane = await startControlPlane();
  console.log(`e2e control plane: ${plane.versions.kubeApiserver} (kube-apiserver), ${plane.versions.etcd}, at ${plane.server}; files in ${plane.dir}`);
  project.provide('cluster', { dir: plane.dir, server: plane.server, kubeconfig: plane.kubeconfig, caCert: plane.ca.certPem, caKey: plane.ca.keyPem });
  const stop = async (): Promise<void> => {
    await plane?.stop();
    plane = undefined;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop().then(() => process.exit(1)));
  return stop;
}
