import { pino, stdTimeFunctions, type DestinationStream, type Logger } from 'pino';

/**
 * One JSON line per event. Levels are written as names and time as ISO 8601 because the
 * readers are people and log pipelines, and the decision log's `time` is part of its contract.
 * Writes are synchronous: decision records are audit evidence, so each is written before its
 * answer leaves, and none is lost in a buffer when the process dies. Only denials and
 * warnings are logged by default, so this costs nothing on the allow path.
 */
export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.NETFENCE_LOG_LEVEL ?? 'info',
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      base: { service: 'netfence' },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
