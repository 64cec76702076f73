#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { codeVersion } from './shared/version.js';
import { addServeCommand } from './serve/cli-spec.js';
import { addOperatorCommand } from './operator/cli-spec.js';
import { addWorkerCommands } from './worker/cli-spec.js';
import { addEvaluateUrlOptions } from './worker/evaluate-url/cli-spec.js';
import { addPredictBatchCommand } from './worker/predict-batch/cli-spec.js';
import { addCompareCommand } from './worker/compare/cli-spec.js';

/**
 * The `kennel` command. Each subcommand lives in its own module and is loaded lazily, so that
 * `kennel operator` never loads TensorFlow and `kennel --version` loads nothing.
 */
export function buildCli(): Command {
  const program = new Command('kennel')
    .description('Kennel: from a bucket of photos to a gated, monitored prediction API on Kubernetes')
    .version(codeVersion(), '-v, --version')
    .showHelpAfterError();
  addServeCommand(program);
  addOperatorCommand(program);
  addWorkerCommands(program);
  addEvaluateUrlOptions(program);
  addPredictBatchCommand(program);
  addCompareCommand(program);
  return program;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isMain) {
  buildCli().parseAsync(process.argv).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
