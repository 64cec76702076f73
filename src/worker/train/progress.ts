import type { Logger } from '../../shared/logger.js';
import type { BatchInfo, EpochLog } from '../../ml/fit/types.js';

/** How the worker shows progress: a bar for people, JSON lines for the operator. */
export interface ProgressReporter {
  /** Progress of a stage counted in images: decoding (default label) or computing features (shown on a terminal only). */
  decoding(done: number, total: number, label?: string): void;
  /** Progress inside an epoch (shown on a terminal only). */
  batch(info: BatchInfo): void;
  epoch(log: EpochLog): void;
  /** A stage change ("training", "evaluating"), for people. */
  stage(message: string): void;
  close(): void;
}

const BAR = 24;

/**
 * On a terminal: a redrawn progress bar per epoch with loss and accuracy. Otherwise: one pino
 * line per epoch with `event: "epoch"` and the contract's EpochProgress fields
 * (src/shared/api/worker-report.ts), which the operator reads from the pod log.
 */
export function createProgressReporter(options: { tty: boolean; stream: NodeJS.WritableStream; logger: Logger }): ProgressReporter {
  const { tty, stream, logger } = options;
  let lastDecodeDraw = 0;
  let lastBatchDraw = 0;
  return {
    decoding(done, total, label = 'decoding images') {
      if (!tty) return;
      const now = Date.now();
      if (done !== total && now - lastDecodeDraw < 100) return;
      lastDecodeDraw = now;
      stream.write(`\r\x1b[K${label} ${bar(done / Math.max(1, total))} ${done}/${total}${done === total ? '\n' : ''}`);
    },
    batch(info) {
      if (!tty) return;
      const now = Date.now();
      if (info.batch !== info.batches && now - lastBatchDraw < 200) return;
      lastBatchDraw = now;
      stream.write(`\r\x1b[Kepoch ${info.epoch} ${bar(info.batch / info.batches)} batch ${info.batch}/${info.batches}  loss ${info.loss.toFixed(4)}  acc ${info.accuracy.toFixed(3)}`);
    },
    epoch(log) {
      const fields = {
        event: 'epoch' as const,
        epoch: log.epoch,
        epochs: log.epochs,
        loss: finite(log.loss),
        accuracy: finite(log.accuracy),
        valLoss: finite(log.valLoss),
        valAccuracy: finite(log.valAccuracy),
        imagesPerSecond: Math.round(log.imagesPerSecond * 10) / 10,
      };
      if (!tty) {
        logger.info(fields, 'epoch');
        return;
      }
      const val = `  val_loss ${log.valLoss.toFixed(4)}  val_acc ${log.valAccuracy.toFixed(3)}`;
      const speed = `  ${log.imagesPerSecond.toFixed(1)} img/s`;
      stream.write(`\r\x1b[Kepoch ${String(log.epoch).padStart(String(log.epochs).length)}/${log.epochs} ${bar(log.epoch / log.epochs)}  loss ${log.loss.toFixed(4)}  acc ${log.accuracy.toFixed(3)}${val}${speed}\n`);
    },
    stage(message) {
      if (tty) stream.write(`${message}\n`);
      else logger.info({ stage: message }, 'stage');
    },
    close() {},
  };
}

/** JSON has no NaN/Infinity: a diverged loss is reported as a very large number. */
function finite(v: number): number {
  return Number.isFinite(v) ? v : Number.MAX_VALUE;
}

function bar(fraction: number): string {
  const filled = Math.max(0, Math.min(BAR, Math.round(fraction * BAR)));
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}]`;
}
