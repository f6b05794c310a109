#!/usr/bin/env node
import type { CliIO } from './io.ts';
import { COMMAND_USAGE, USAGE, UsageError } from './usage.ts';

// Each command is imported when it runs, so that `reach` or `check` do not load the server
// (Fastify, pino, prom-client, the Kubernetes client): namespace owners call the CLI once per
// file in CI, and start-up is most of its time.
const COMMANDS: Record<string, () => Promise<(args: string[], io: CliIO) => number | Promise<number>>> = {
  serve: async () => (await import('./serve.ts')).serve,
  certs: async () => {
    const { certs } = await import('./certs.ts');
    return (args, io) => certs(args, io.out);
  },
  check: async () => (await import('./check.ts')).check,
  reach: async () => (await import('./reach.ts')).reach,
  exposure: async () => (await import('./exposure.ts')).exposure,
  diff: async () => (await import('./diff.ts')).diff,
  adopt: async () => (await import('./adopt.ts')).adopt,
  report: async () => (await import('./report.ts')).report,
};

/** A closed stdout (`netfence reach … | head -1`) is not an error: the answer stands. */
let stdoutClosed = false;
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    if (stream === process.stdout) stdoutClosed = true;
  });
}

const io: CliIO = {
  out: (line) => {
    if (!stdoutClosed) process.stdout.write(`${line}\n`);
  },
  err: (line) => void process.stderr.write(`${line}\n`),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined) {
    io.err(USAGE);
    return 2;
  }
  if (command === 'help' || command === '--help' || command === '-h') {
    const topic = args[0] !== undefined ? COMMAND_USAGE[args[0]] : undefined;
    io.out(topic ?? USAGE);
    return 0;
  }
  if (command === '--version' || command === 'version') {
    const { VERSION } = await import('./version.ts');
    io.out(`netfence ${VERSION}`);
    return 0;
  }
  const load = COMMANDS[command];
  if (!load) throw new UsageError(`unknown command ${JSON.stringify(command)} (commands: ${Object.keys(COMMANDS).join(', ')})`);
  if (args.includes('--help') || args.includes('-h')) {
    io.out(COMMAND_USAGE[command]!);
    return 0;
  }
  const run = await load();
  if (command === 'serve') {
    // Exit explicitly once shutdown is done: client keep-alive sockets to the API server
    // must not hold the process open after the server has stopped.
    process.exit(await run(args, io));
  }
  return run(args, io);
}

/** Exit code and message for an error; never a stack trace unless NETFENCE_DEBUG asks for it. */
function report(err: unknown, command: string | undefined): number {
  const e = (err instanceof Error ? err : new Error(String(err))) as Error & { code?: string };
  if (e.code?.startsWith('ERR_PARSE_ARGS')) {
    io.err(`netfence: ${e.message}`);
    if (command && COMMAND_USAGE[command]) io.err(`usage: ${COMMAND_USAGE[command]}`);
    return 2;
  }
  switch (e.name) {
    case 'UsageError':
      io.err(`netfence: ${e.message}\n(netfence ${command && COMMAND_USAGE[command] ? `${command} ` : ''}--help shows the flags)`);
      return 2;
    case 'ManifestError':
    case 'ClusterReadError':
      io.err(`netfence: ${e.message}`);
      return 2;
    case 'ConfigError':
      io.err(`netfence: ${e.message}`);
      // serve refuses to start on a bad config (exit 1, documented); for the other commands a
      // bad --config is bad input like a bad manifest.
      return command === 'serve' ? 1 : 2;
  }
  if (command === 'serve') {
    // serve's start-up failures (a certificate pair half present, a port in use) are reported
    // as they are, exit 1.
    io.err(`netfence: ${e.message}`);
    return 1;
  }
  io.err(`netfence: internal error: ${e.message}${process.env.NETFENCE_DEBUG ? `\n${e.stack}` : ' (NETFENCE_DEBUG=1 shows where; please report it)'}`);
  return 3;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = report(err, process.argv[2]);
  },
);
