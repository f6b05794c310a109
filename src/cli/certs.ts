import { parseArgs } from 'node:util';
import { ExistingCAError, writeCertBundle } from '../certs/files.ts';
import { certificateExpiry, defaultServingNames, mergeServingNames } from '../certs/generate.ts';
import { UsageError } from './usage.ts';

/** `netfence certs`: a CA and a serving certificate for the default names plus the given ones. */
export function certs(args: string[], out: (line: string) => void): number {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      out: { type: 'string', default: 'certs' },
      dns: { type: 'string', multiple: true },
      ip: { type: 'string', multiple: true },
      namespace: { type: 'string', default: 'netfence-system' },
      force: { type: 'boolean', default: false },
    },
  });
  let names;
  try {
    names = mergeServingNames(defaultServingNames(values.namespace), values.dns ?? [], values.ip ?? []);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let serving;
  try {
    ({ serving } = writeCertBundle(values.out, names, true, values.force));
  } catch (err) {
    if (err instanceof ExistingCAError) throw new UsageError(err.message);
    throw err;
  }
  out(`wrote ca.crt, ca.key, tls.crt, tls.key to ${values.out}`);
  out(`serving certificate for ${[...names.dnsNames, ...names.ips].join(', ')}, valid until ${certificateExpiry(serving.certPem).toISOString()}`);
  out(`caBundle for the webhook configurations: base64 -w0 ${values.out}/ca.crt`);
  return 0;
}
