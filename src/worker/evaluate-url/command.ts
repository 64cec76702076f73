import { storageFor } from '../../shared/storage/index.js';
import { evaluateUrl } from './evaluate-url.js';
import { formatReport } from './format-report.js';
import { parseEvaluateUrlFlags, type EvaluateUrlFlags } from './options.js';
import { createPredictClient } from './predict-client.js';
import { verdict } from './summarize.js';

/**
 * `kennel evaluate --url <service> --data <labeled photos>`: the post-deployment check against a
 * live service. Prints the report (tables, or one JSON object with `--json`, which also carries
 * the verdict) on stdout and progress on stderr when it is a TTY; sets exit code 1 when the
 * error rate is above `--max-error-rate` or accuracy is below `--min-accuracy`.
 */
export async function run(flags: EvaluateUrlFlags): Promise<void> {
  const options = parseEvaluateUrlFlags(flags);
  const showProgress = process.stderr.isTTY === true;
  const report = await evaluateUrl(options, {
    storage: storageFor(options.data),
    predict: createPredictClient({ baseUrl: options.url, timeoutMs: options.timeoutMs }),
    ...(showProgress ? { onResult: (done: number, total: number) => void process.stderr.write(`\r${done}/${total}`) } : {}),
  });
  if (showProgress) process.stderr.write('\n');
  const v = verdict(report, options);
  process.stdout.write(options.json ? `${JSON.stringify({ ...report, pass: v.pass, reasons: v.reasons })}\n` : formatReport(report, v));
  if (!v.pass) process.exitCode = 1;
}
