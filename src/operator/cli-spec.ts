import type { Command } from 'commander';
import type { OperatorFlags } from './config.js';

/**
 * Declares `kennel operator` and its flags. Flags mirror the environment variables of the
 * contract (a flag wins over its variable); the operator module is imported only when the
 * command runs, so other subcommands never load the Kubernetes client.
 */
export function addOperatorCommand(program: Command): Command {
  return program
    .command('operator')
    .description('Run the Kennel operator: reconcile TrainingRuns, ModelVersions and InferenceServices')
    .option('--namespaces <list>', 'comma-separated namespaces to watch; empty = all (KENNEL_NAMESPACES)')
    .option('--leader-elect', 'campaign for the leader lease before reconciling (KENNEL_LEADER_ELECT, default true)')
    .option('--no-leader-elect', 'reconcile without leader election (one replica only)')
    .option('--lease-namespace <ns>', 'namespace of the leader Lease (KENNEL_LEASE_NAMESPACE)')
    .option('--worker-image <ref>', 'image of training and serving pods (KENNEL_WORKER_IMAGE)')
    .option('--artifact-root <uri>', 'where runs write models, gs://bucket/prefix or file:///path (KENNEL_ARTIFACT_ROOT)')
    .option('--gate-min-accuracy <fraction>', 'default evaluation gate (KENNEL_GATE_MIN_ACCURACY, default 0.8)')
    .option('--health-port <port>', '/healthz, /readyz and /metrics port (KENNEL_HEALTH_PORT, default 8081)')
    .option('--service-account <name>', 'service account of training and serving pods (KENNEL_SERVICE_ACCOUNT)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace (KENNEL_LOG_LEVEL)')
    .option('--workers <n>', 'parallel reconciles per controller (KENNEL_WORKERS, default 16)')
    .action(async (flags: OperatorFlags) => {
      // --leader-elect is declared before --no-leader-elect, so commander leaves it undefined
      // unless given and KENNEL_LEADER_ELECT decides.
      const { run } = await import('./command.js');
      await run(flags);
    });
}
