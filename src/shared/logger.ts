import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Creates the process's root logger: JSON lines on stdout (or the given destination), with a
 * static message and a data object on every line. Components take a child logger, never this
 * module's state: nothing is created at import time.
 */
export function createLogger(options: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? process.env.KENNEL_LOG_LEVEL ?? 'info',
    base: options.name ? { component: options.name } : {},
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}
