import type { Command } from 'commander';

/**
 * Declares `kennel train` and `kennel evaluate`. Imports nothing heavy: TensorFlow.js, sharp and
 * the storage clients load only when a subcommand runs. Defaults come from the architecture's
 * defaultHyperparameters (src/ml/architectures.ts).
 */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function addWorkerCommands(program: Command): void {
  program
    .command('train')
    .description('train an image classifier on a class-per-folder dataset, save it with metadata, metrics and a report, and evaluate it on the test split')
    .option('--data <uri>', 'dataset prefix with one folder per class (file://, gs:// or a path); repeat to train on several', collect)
    .option('--prediction-log <uri>', 'also train on the images a kennel serve prediction log holds, labelled by their feedback; repeatable', collect)
    .requiredOption('--out <uri>', 'where to write the model artifact (file://, gs:// or a path)')
    .option('--architecture <name>', 'model architecture: mobilenet-v2 (default: pretrained, fine-tuned), compact-cnn or simple-cnn (from scratch)')
    .option('--image-size <n>', 'input side in pixels')
    .option('--resize <mode>', 'cover (centre crop, default) or fill (stretch)')
    .option('--epochs <n>', 'maximum number of epochs')
    .option('--batch-size <n>', 'images per training step')
    .option('--learning-rate <x>', 'Adam learning rate')
    .option('--seed <n>', 'seed for weights, shuffling and augmentation (default 42)')
    .option('--no-augmentation', 'turn off augmentation (all of flips, random crops and brightness)')
    .option('--flip', 'mirror training images left-right at random (default on)')
    .option('--no-flip', 'do not mirror training images')
    .option('--random-crop', 'shift training images at random, a random crop (default on)')
    .option('--no-random-crop', 'do not shift training images')
    .option('--brightness <b>', 'largest random brightness change, 0..1 (default 0.1 from scratch; pretrained: not applied, features are cached)')
    .option('--patience <n>', 'early stopping: epochs without a better validation loss before stopping; 0 = off')
    .option('--split <fractions>', 'train,validation,test fractions by content hash (default 0.8,0.1,0.1)')
    .option('--split-seed <n>', 'reshuffles the content-hash split (default 0)')
    .option('--classes <names>', 'comma-separated class folders to use, in output order (default: all folders, sorted)')
    .option('--backend <name>', 'TensorFlow.js backend: auto, tensorflow, wasm, cpu (default auto)')
    .option('--concurrency <n>', 'files read and decoded at once (default 8)')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      process.exitCode = await (await import('./train/command.js')).run(opts);
    });

  program
    .command('evaluate')
    .description('evaluate a saved model artifact on a class-per-folder dataset (reloads the artifact and checks its sha256)')
    .requiredOption('--model <uri>', 'model artifact prefix (file://, gs:// or a path)')
    .requiredOption('--data <uri>', 'dataset prefix with one folder per class')
    .option('--split <name>', 'all (default), train, validation or test: the content-hash split recorded in the artifact')
    .option('--fractions <fractions>', 'override the recorded split fractions train,validation,test')
    .option('--split-seed <n>', 'override the recorded split seed')
    .option('--json', 'print one JSON object (MetricsSummary + classes + skippedFiles) instead of tables')
    .option('--predictions <uri>', 'also write one JSON line per image (path, label, confidence, probabilities), as kennel predict-batch does')
    .option('--batch-size <n>', 'images per prediction batch (default 16)')
    .option('--backend <name>', 'TensorFlow.js backend: auto, tensorflow, wasm, cpu (default auto)')
    .option('--concurrency <n>', 'files read and decoded at once (default 8)')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      process.exitCode = await (await import('./evaluate/command.js')).run(opts);
    });

  program
    .command('dataset')
    .description('datasets built from what a served model saw')
    .command('build')
    .description('join the feedback of prediction logs with their stored images into a class-per-folder dataset (<out>/<class>/<sha256>.<ext> and manifest.json)')
    .option('--log <uri>', 'a kennel serve --prediction-log prefix; repeat to join several', collect)
    .requiredOption('--out <uri>', 'an empty prefix for the dataset (file://, gs:// or a path)')
    .option('--classes <names>', 'comma-separated classes to keep (default: every label given)')
    .option('--model <name>', 'only feedback on this model\'s predictions')
    .option('--since <time>', 'only feedback given at or after this time (ISO 8601)')
    .option('--wrong-only', 'only corrections (the model was wrong), not confirmations')
    .action(async (opts: Record<string, string | string[] | boolean | undefined>) => {
      process.exitCode = await (await import('./dataset-build/command.js')).run(opts);
    });
}
