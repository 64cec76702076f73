import type { Command } from 'commander';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Declares `kennel compare`. Loads nothing heavy (no TensorFlow): it reads JSON files only. */
export function addCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('compare trained models side by side: test metrics with deltas against the first, per-class figures, hyperparameters and lineage')
    .argument('[models...]', 'model artifact prefixes (file://, gs:// or paths), the first one the reference; with --model-versions: ModelVersion names (default: all in the input)')
    .option('--output <format>', 'text (default) or json')
    .option('--html <uri>', 'also write an HTML comparison page (overlaid training curves, confusion matrices side by side) to this file (path, file:// or gs://)')
    .option('--model-versions <file>', 'compare ModelVersions from `kubectl get modelversions.kennel.dev -o json` output (- for stdin; TrainingRuns in it supply hyperparameters when an artifact cannot be read); repeatable', collect)
    .action(async (models: string[], opts: Record<string, string | string[] | undefined>) => {
      process.exitCode = await (await import('./command.js')).run(models, opts);
    });
}
