#!/usr/bin/env node
import { ConfigError } from '../config/load.ts';
import { ManifestError } from '../cluster/manifests.ts';
import { certs } from './certs.ts';
import { check } from './check.ts';
import { exposure } from './exposure.ts';
import { reach } from './reach.ts';
import { serve } from './serve.ts';
import { USAGE, UsageError } from './usage.ts';

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const io = { out, err: (line: string): void => void process.stderr.write(`${line}\n`) };
  switch (command) {
    case 'serve': {
      // Exit explicitly once shutdown is done: client keep-alive sockets to the API server
      // must not hold the process open after the server has stopped.
      const code = await serve(args);
      process.exit(code);
    }
    case 'certs':
      return certs(args, out);
    case 'check':
      return check(args, io);
    case 'reach':
      return reach(args, io);
    case 'exposure':
      return exposure(args, io);
    case 'report':
      // Loaded on demand: the other commands never pay for the report renderers.
      return (await import('./report.ts')).report(args, io);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as Error & { code?: string };
    if (e.code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`netfence: ${e.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
    } else if (err instanceof UsageError) {
      process.stderr.write(`netfence: ${e.message}\n(netfence help lists the commands and flags)\n`);
      process.exitCode = 2;
    } else if (err instanceof ConfigError || err instanceof ManifestError) {
      process.stderr.write(`netfence: ${e.message}\n`);
      process.exitCode = err instanceof ManifestError ? 2 : 1;
    } else {
      process.stderr.write(`netfence: ${e.stack ?? e.message}\n`);
      process.exitCode = 1;
    }
  },
);
