import type { Command } from 'commander';

type Flags = Record<string, string | boolean | undefined>;

/**
 * Adds `--url` to `kennel evaluate` (declared in ../cli-spec.ts): with `--url <service>` the
 * command checks a running inference service with labeled photos instead of evaluating an
 * artifact, so `--model` becomes required only when `--url` is absent. Call after the worker's
 * commands are declared. The artifact path is unchanged: without `--url`, the action hands the
 * flags to ../evaluate/command.js exactly as the worker's own declaration does.
 */
export function addEvaluateUrlOptions(program: Command): void {
  const evaluate = program.commands.find((c) => c.name() === 'evaluate');
  if (!evaluate) throw new Error('addEvaluateUrlOptions: declare `kennel evaluate` first');
  const model = evaluate.options.find((o) => o.long === '--model');
  if (model) model.mandatory = false;
  evaluate
    .option('--url <url>', 'instead of --model: base URL of a running kennel serve / InferenceService; every photo is sent to POST /predict')
    .option('--min-accuracy <x>', 'with --url: exit 1 when accuracy is below this (0..1)')
    .option('--max-error-rate <x>', 'with --url: exit 1 when the fraction of failed requests is above this (default 0)')
    .option('--timeout-ms <ms>', 'with --url: per-request timeout (default 30000)')
    .option('--limit <n>', 'with --url: at most this many photos per class')
    .option('--classes <names>', 'with --url: comma-separated class folders to use (default: all)')
    .action(async (opts: Flags) => {
      if (typeof opts.url === 'string') {
        await (await import('./command.js')).run(opts);
        return;
      }
      if (typeof opts.model !== 'string') evaluate.error("error: required option '--model <uri>' not specified (or give --url <service> to check a running service)");
      // The artifact evaluator returns its exit code (it never touches process state itself).
      process.exitCode = await (await import('../evaluate/command.js')).run(opts);
    });
}
