import type { Command } from 'commander';

/**
 * Declares `kennel predict-batch`, the worker of a BatchPrediction's pods (also usable by hand).
 * Imports nothing heavy: TensorFlow.js, sharp and the storage clients load when it runs.
 */
export function addPredictBatchCommand(program: Command): void {
  program
    .command('predict-batch')
    .description('classify every image under a prefix (one shard of it, in an Indexed Job) into JSON Lines, resuming after the parts an earlier attempt committed')
    .requiredOption('--model <uri>', 'model artifact prefix (file://, gs:// or a path)')
    .requiredOption('--input <uri>', 'prefix of the images to classify (every object under it; hidden files skipped)')
    .requiredOption('--output <uri>', 'where predictions-<shard>-of-<shards>.jsonl, summary.json and _shards/ go (not inside --input)')
    .option('--shards <n>', 'number of shards (default 1)')
    .option('--shard <i>', 'this pod\'s shard, 0-based (default: $JOB_COMPLETION_INDEX, set in every pod of an Indexed Job)')
    .option('--model-sha256 <hex>', 'the sha256 the registry recorded for the weights; the artifact must match it')
    .option('--model-version <name>', 'the ModelVersion name, recorded in summary.json')
    .option('--batch-size <n>', 'images predicted in one step and committed in one part (default 32)')
    .option('--concurrency <n>', 'files read and decoded at once (default 8)')
    .option('--backend <name>', 'TensorFlow.js backend: auto, tensorflow, wasm, cpu (default auto)')
    .action(async (opts: Record<string, string | undefined>) => {
      process.exitCode = await (await import('./command.js')).run(opts);
    });
}
