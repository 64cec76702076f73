import { Counter, Gauge, type Registry } from 'prom-client';

/** What a prediction log writes: records of two streams, and sampled images. */
export const LOG_METRIC_STREAMS = ['predictions', 'feedback', 'images'] as const;
export type LogMetricStream = (typeof LOG_METRIC_STREAMS)[number];

/** Why something accepted by the log never reached storage, or was never accepted. */
export const DROP_REASONS = ['buffer_full', 'shutdown'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/**
 * The prediction log's metrics (`kennel_serve_prediction_log_*`), on the server's registry,
 * labelled with the served model and version and bounded labels only (stream, reason). Every
 * series exists at zero from start-up. Accepted = appended − dropped(shutdown); written catches
 * up with appended within a flush interval while storage is healthy; nothing is dropped without
 * being counted here.
 */
export class LogMetrics {
  readonly #base: { model: string; version: string };
  readonly #appended: Counter<'model' | 'version' | 'stream'>;
  readonly #written: Counter<'model' | 'version' | 'stream'>;
  readonly #dropped: Counter<'model' | 'version' | 'stream' | 'reason'>;
  readonly #writeErrors: Counter<'model' | 'version' | 'stream'>;
  readonly #bufferedBytes: Gauge<'model' | 'version' | 'stream'>;

  constructor(options: { registry: Registry; model: string; version: string; buffered: (stream: LogMetricStream) => number }) {
    const registers = [options.registry];
    this.#base = { model: options.model, version: options.version };
    const labelNames = ['model', 'version', 'stream'] as const;
    this.#appended = new Counter({ name: 'kennel_serve_prediction_log_appended_total', help: 'Records (and sampled images) accepted into the prediction log buffer.', labelNames, registers });
    this.#written = new Counter({ name: 'kennel_serve_prediction_log_written_total', help: 'Records (and images) written to storage.', labelNames, registers });
    this.#dropped = new Counter({
      name: 'kennel_serve_prediction_log_dropped_total',
      help: 'Records (and images) not kept: buffer_full = refused while storage was failing and the buffer was full; shutdown = accepted but still unwritten when the shutdown flush timed out.',
      labelNames: ['model', 'version', 'stream', 'reason'],
      registers,
    });
    this.#writeErrors = new Counter({ name: 'kennel_serve_prediction_log_write_errors_total', help: 'Failed object writes (each is retried).', labelNames, registers });
    const buffered = options.buffered;
    this.#bufferedBytes = new Gauge({
      name: 'kennel_serve_prediction_log_buffered_bytes',
      help: 'Bytes accepted but not yet written, per stream.',
      labelNames,
      registers,
      collect() {
        for (const stream of LOG_METRIC_STREAMS) this.set({ model: options.model, version: options.version, stream }, buffered(stream));
      },
    });
    for (const stream of LOG_METRIC_STREAMS) {
      const labels = { ...this.#base, stream };
      this.#appended.inc(labels, 0);
      this.#written.inc(labels, 0);
      this.#writeErrors.inc(labels, 0);
      this.#bufferedBytes.set(labels, 0);
      for (const reason of DROP_REASONS) this.#dropped.inc({ ...labels, reason }, 0);
    }
  }

  appended(stream: LogMetricStream, n = 1): void {
    this.#appended.inc({ ...this.#base, stream }, n);
  }

  written(stream: LogMetricStream, n: number): void {
    this.#written.inc({ ...this.#base, stream }, n);
  }

  dropped(stream: LogMetricStream, reason: DropReason, n = 1): void {
    if (n > 0) this.#dropped.inc({ ...this.#base, stream, reason }, n);
  }

  writeFailed(stream: LogMetricStream): void {
    this.#writeErrors.inc({ ...this.#base, stream });
  }
}
