/**
 * `npm run demo`: Kennel's whole chain on this machine, for a person who has just run `npm ci`.
 * Builds what is missing (dist/, the test bed binaries), starts a local control plane, the GCS
 * emulator and the operator, uploads a dataset (generated, or `--data <photos>`), applies a
 * TrainingRun and an InferenceService, follows their progress, prints where to look and one
 * prediction, then waits for Ctrl-C and tears everything down. See docs/demo.md.
 *
 * Shutdown has one owner (local-cluster/shutdown.ts): everything the demo starts is registered
 * with it as it starts, and SIGINT, SIGTERM or SIGHUP — Ctrl-C to the process group, or a signal
 * to this process alone from a wrapper, `timeout -s INT` or a supervisor — stops all of it, last
 * started first; `--exit` and a failure run the same stops.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  choosePhotos,
  inferenceServiceFromExample,
  Kubectl,
  merge,
  startOperatorProcess,
  startServiceProxy,
  startTestbed,
  testbedBin,
  trainingRunFromExample,
  uploadPhotos,
  type Obj,
  type OperatorProcess,
  type ServiceProxy,
  type Testbed,
} from '../local-cluster/index.js';
import { startForegroundProcess } from '../local-cluster/managed-process.js';
import { ownShutdown, type Shutdown } from '../local-cluster/shutdown.js';
import { createPredictClient } from '../src/worker/evaluate-url/predict-client.js';
import { ensureNamespace, installChart, kubeClientOf, predictThroughApiServer, RELEASE_NAMESPACE, toolPath, toolRunner } from './demo/existing-cluster.js';
import { DEMO_USAGE, parseDemoArgs, type DemoOptions, type ExistingClusterOptions } from './demo/options.js';
import { writeStripesDataset } from './demo/synthetic-dataset.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const CLI = path.join(REPO, 'dist', 'cli.js');
const NS = 'default';
/** The model both paths train and serve (the InferenceService is named after it). */
const MODEL = 'demo';
const BUCKET = 'kennel-demo';
const say = (line = ''): void => void process.stdout.write(`${line}\n`);
const step = (line: string): void => say(`\n▶ ${line}`);

/** Runs an npm script with its output shown, failing with its exit code; stopped if the demo is interrupted. */
async function npmRun(script: string, shutdown: Shutdown): Promise<void> {
  const child = startForegroundProcess({ name: `npm run ${script}`, command: 'npm', args: ['run', script], cwd: REPO });
  const unregister = shutdown.add(`npm run ${script}`, () => child.stop());
  try {
    const { code, signal } = await child.exited;
    if (code !== 0) throw new Error(`npm run ${script} exited with ${signal ?? `code ${code}`}`);
  } finally {
    unregister();
  }
}

async function ensureBuilt(shutdown: Shutdown): Promise<void> {
  if (!existsSync(CLI)) {
    step('building Kennel (npm run build) ...');
    await npmRun('build', shutdown);
  }
  try {
    for (const b of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl', 'fake-gcs-server'] as const) testbedBin(b);
  } catch {
    step('building the local cluster binaries (npm run testbed:build; the first time takes a while) ...');
    await npmRun('testbed:build', shutdown);
  }
}

/** The dataset to train on and one held-out photo per class, from `--data` or generated. */
async function prepareDataset(o: DemoOptions, tmp: string): Promise<{ classes: string[]; train: Record<string, readonly string[]>; heldOut: Record<string, readonly string[]> }> {
  if (o.data) {
    const root = path.resolve(o.data);
    if (!existsSync(root) || !statSync(root).isDirectory()) throw new Error(`--data ${o.data}: not a folder`);
    const classes = readdirSync(root).filter((d) => !d.startsWith('.') && statSync(path.join(root, d)).isDirectory()).sort();
    if (classes.length < 2) throw new Error(`--data ${o.data}: expected one folder per class (at least two), found ${classes.length}`);
    const split = await choosePhotos(classes, { train: o.perClass, heldOut: 3 }, root);
    return { classes, ...split };
  }
  const dir = path.join(tmp, 'stripes');
  const all = await writeStripesDataset(dir, { perClass: o.perClass + 3 });
  const classes = Object.keys(all).sort();
  return {
    classes,
    train: Object.fromEntries(classes.map((c) => [c, (all[c] ?? []).slice(0, o.perClass)])),
    heldOut: Object.fromEntries(classes.map((c) => [c, (all[c] ?? []).slice(o.perClass)])),
  };
}

/** Prints each change of the objects' phases and progress until `done` returns a value. */
async function follow<T>(kubectl: Kubectl, done: (objs: Obj[]) => T | undefined, timeoutMs: number): Promise<T> {
  const seen = new Map<string, string>();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const objs = [...(await kubectl.list('trainingruns.kennel.dev')), ...(await kubectl.list('modelversions.kennel.dev')), ...(await kubectl.list('inferenceservices.kennel.dev'))];
    for (const o of objs) {
      const st = o.status ?? {};
      const progress = st.progress as { epoch?: number; epochs?: number; valAccuracy?: number } | undefined;
      const gate = st.gate as { passed?: boolean } | undefined;
      const line = [
        `${o.kind}/${o.metadata.name}:`,
        st.phase ?? 'Pending',
        progress?.epoch !== undefined ? `epoch ${progress.epoch}/${progress.epochs ?? '?'}` : '',
        progress?.valAccuracy !== undefined ? `val acc ${progress.valAccuracy.toFixed(3)}` : '',
        o.kind === 'ModelVersion' ? `test accuracy ${(o.spec?.metrics as { accuracy?: number } | undefined)?.accuracy ?? '?'}` : '',
        gate ? `gate ${gate.passed ? 'passed' : 'failed'}` : '',
        st.currentModelVersion ? `serving ${String(st.currentModelVersion)}` : '',
        st.readyReplicas !== undefined ? `ready ${String(st.readyReplicas)}/${String(st.replicas ?? '?')}` : '',
      ]
        .filter(Boolean)
        .join(' ');
      const key = `${o.kind}/${o.metadata.name}`;
      if (seen.get(key) !== line) {
        seen.set(key, line);
        say(`  ${new Date().toISOString().slice(11, 19)}  ${line}`);
      }
      const failed = o.kind === 'TrainingRun' && st.phase === 'Failed';
      if (failed) throw new Error(`TrainingRun ${o.metadata.name} failed: ${JSON.stringify(st.conditions)}`);
    }
    const result = done(objs);
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`gave up after ${Math.round(timeoutMs / 1000)}s; see \`kubectl describe kennel\``);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** The TrainingRun and InferenceService of the demo, adapted from examples/cats-vs-dogs. */
async function applyDemoObjects(kubectl: Kubectl, namespace: string, classes: readonly string[], o: DemoOptions): Promise<void> {
  step('applying a TrainingRun and an InferenceService (from examples/cats-vs-dogs, adapted) ...');
  const tr = merge(trainingRunFromExample({
    name: 'demo-1',
    namespace,
    datasetUri: `gs://${BUCKET}/datasets/demo`,
    hyperparameters: { epochs: o.epochs, imageSize: o.imageSize, batchSize: 32, earlyStoppingPatience: undefined },
    evaluation: { minAccuracy: 0.6, minF1: undefined, minClassRecall: undefined, mustBeatChampion: undefined },
  }), { spec: { model: MODEL, dataset: { classes: [...classes] } } });
  const isvc = merge(inferenceServiceFromExample({ namespace, progressDeadlineSeconds: 300 }), { metadata: { name: MODEL }, spec: { model: MODEL, replicas: 1 } });
  say(`  ${(await kubectl.apply(tr, 'training-run.yaml')).trim()}`);
  say(`  ${(await kubectl.apply(isvc, 'inference-service.yaml')).trim()}`);
}

/** Follows the objects until the InferenceService serves; fails when the model was rejected by its gate. */
async function followUntilServing(kubectl: Kubectl): Promise<void> {
  step('following progress (kubectl get kennel) ...');
  await follow(
    kubectl,
    (objs) => {
      const ready = objs.find((x) => x.kind === 'InferenceService' && x.status?.phase === 'Ready' && x.status.currentModelVersion);
      if (ready) return ready;
      // Nothing will be served when the only model was rejected by its gate: say why and stop.
      const runsDone = objs.filter((x) => x.kind === 'TrainingRun').every((x) => x.status?.phase === 'Succeeded' || x.status?.phase === 'Failed');
      const versions = objs.filter((x) => x.kind === 'ModelVersion');
      if (runsDone && versions.length > 0 && versions.every((x) => x.status?.phase === 'Rejected')) {
        const reasons = versions.flatMap((x) => (x.status?.gate as { reasons?: string[] } | undefined)?.reasons ?? []);
        throw new Error(`the trained model was rejected by its evaluation gate: ${reasons.join('; ')}. Try more --epochs or --per-class.`);
      }
      return undefined;
    },
    30 * 60_000,
  );
}

/**
 * The demo on a cluster that exists already: installs the chart with the given images (helm
 * upgrade --install), uploads the dataset to the GCS emulator, applies the same objects, follows
 * them and predicts through the API server's service proxy. Leaves everything in place.
 */
async function existingClusterDemo(o: DemoOptions, c: ExistingClusterOptions, tmp: string): Promise<void> {
  const kubectlBin = toolPath('kubectl');
  const kubectlRun = toolRunner(kubectlBin, c.kubeconfig);
  const helm = toolRunner(toolPath('helm'), c.kubeconfig);
  step(`installing the chart into the cluster of ${c.kubeconfig} (helm upgrade --install ${c.release}, namespace ${RELEASE_NAMESPACE}) ...`);
  say(`  operator image ${c.operatorImage}, worker image ${c.workerImage}, bucket gs://${BUCKET} on the emulator ${c.gcsEndpoint}`);
  await ensureNamespace(kubectlRun, c.namespace);
  const installed = await installChart(helm, c, `gs://${BUCKET}/kennel`, tmp);
  say(`  ${installed.split('\n').filter((l) => /^(STATUS|REVISION):/.test(l)).join(', ')}`);
  const kubectl = new Kubectl({ kubectl: kubectlRun }, c.namespace, tmp);

  step(o.data ? `uploading ${o.perClass} photos per class from ${o.data} to the GCS emulator (${c.uploadEndpoint}) ...` : `generating a dataset (${o.perClass} images per class of horizontal and vertical stripes) and uploading it (${c.uploadEndpoint}) ...`);
  const data = await prepareDataset(o, tmp);
  const n = await uploadPhotos(c.uploadEndpoint, BUCKET, 'datasets/demo', data.train);
  say(`  ${n} images in gs://${BUCKET}/datasets/demo/{${data.classes.join(',')}}/`);

  await applyDemoObjects(kubectl, c.namespace, data.classes, o);
  await followUntilServing(kubectl);

  step('Kennel is serving. Where to look:');
  say(`  export KUBECONFIG=${c.kubeconfig}`);
  say(`  ${kubectlBin} get ktr,kmv,kis -n ${c.namespace}       # TrainingRuns, ModelVersions, InferenceServices`);
  say(`  ${kubectlBin} describe kis ${MODEL} -n ${c.namespace}`);
  say(`  ${kubectlBin} logs -n ${RELEASE_NAMESPACE} deploy/${c.release.includes('kennel') ? c.release : `${c.release}-kennel`}   # the operator`);
  say(`  ${kubectlBin} port-forward -n ${c.namespace} svc/${MODEL} 8080:80   # then http://127.0.0.1:8080/ to try a photo`);

  step('a prediction on photos the model has never seen (through the API server\'s service proxy):');
  let answered = 0;
  const kube = kubeClientOf(c.kubeconfig);
  for (const [cls, files] of Object.entries(data.heldOut)) {
    const file = files[0];
    if (!file) continue;
    const out = await predictThroughApiServer(kube, { namespace: c.namespace, service: MODEL, port: 80, model: MODEL, image: await readFile(file) });
    say(`  ${path.basename(file)} (a ${cls}) → ${out.label ?? 'unsure'} (confidence ${out.confidence.toFixed(3)})`);
    answered++;
  }
  kube.close();
  say(`\n${answered} predictions answered. The release stays installed: \`helm uninstall ${c.release} -n ${RELEASE_NAMESPACE} --kubeconfig ${c.kubeconfig}\` removes it (the CRDs and your objects stay).`);
}

async function main(): Promise<void> {
  const o = parseDemoArgs(process.argv.slice(2));
  if (o.help) {
    say(DEMO_USAGE);
    return;
  }
  if (o.cluster) {
    const tmpDir = await mkdtemp(path.join(tmpdir(), 'kennel-demo-'));
    try {
      await existingClusterDemo(o, o.cluster, tmpDir);
    } catch (err) {
      process.stderr.write(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    } finally {
      await rm(tmpDir, { recursive: true, force: true });
    }
    return;
  }
  // The one owner of shutdown, before anything starts: a signal during start-up stops what has
  // started so far (what is half-started is killed by the exit hooks when the owner exits).
  const shutdown = ownShutdown({
    say,
    beforeStops: (why) => step(`tearing down${why === 'requested' ? '' : ` (${why})`}: service proxy, operator, pods, control plane, GCS emulator ...`),
  });
  let operator: OperatorProcess | undefined;
  const tmp = await mkdtemp(path.join(tmpdir(), 'kennel-demo-'));
  shutdown.add('temporary files', async () => {
    await rm(tmp, { recursive: true, force: true });
    say('done.');
  });

  try {
    await ensureBuilt(shutdown);

    step('starting the local cluster: etcd, kube-apiserver, kube-controller-manager, fake-gcs-server, node agent ...');
    const bed: Testbed = await startTestbed({});
    shutdown.add('the local cluster', () => bed.stop());
    const kubectl = new Kubectl(bed, NS, tmp);
    say(`  ready in ${Math.round((bed.timings.total ?? 0) / 1000)}s; state and logs in ${bed.dir}`);

    step('starting the Kennel operator (kennel operator, from dist/cli.js) ...');
    operator = await startOperatorProcess({
      cliPath: CLI,
      logPath: path.join(bed.dir, 'operator.log'),
      env: {
        KUBECONFIG: bed.kubeconfigPath,
        KENNEL_NAMESPACES: NS,
        KENNEL_LEADER_ELECT: 'false',
        KENNEL_ARTIFACT_ROOT: `gs://${BUCKET}/kennel`,
        KENNEL_GCS_ENDPOINT: bed.gcsEndpoint,
      },
    });
    const op = operator;
    shutdown.add('the operator', () => op.stop());
    say(`  healthy at ${operator.healthUrl}/readyz; log ${operator.logPath}`);

    step(o.data ? `uploading ${o.perClass} photos per class from ${o.data} to the GCS emulator ...` : `generating a dataset (${o.perClass} images per class of horizontal and vertical stripes) and uploading it ...`);
    const data = await prepareDataset(o, tmp);
    const n = await uploadPhotos(bed.gcsEndpoint, BUCKET, 'datasets/demo', data.train);
    say(`  ${n} images in gs://${BUCKET}/datasets/demo/{${data.classes.join(',')}}/`);

    await applyDemoObjects(kubectl, NS, data.classes, o);

    step('following progress (kubectl get kennel) ...');
    await followUntilServing(kubectl);

    const proxy: ServiceProxy = await startServiceProxy({ kubeConfig: bed.kubeConfig, namespace: NS, service: 'demo', port: 80 });
    shutdown.add('the service proxy', () => proxy.stop());
    const kubectlBin = testbedBin('kubectl');
    step('Kennel is serving. Where to look:');
    say(`  export KUBECONFIG=${bed.kubeconfigPath}`);
    say(`  ${kubectlBin} get kennel                 # TrainingRuns, ModelVersions, InferenceServices`);
    say(`  ${kubectlBin} describe kis demo`);
    say(`  ${kubectlBin} get pods,jobs,deployments,services,podmonitorings`);
    say(`  service URL (a local stand-in for the Service's cluster IP): ${proxy.url}`);
    say(`  open ${proxy.url}/ in a browser to try a photo; metrics at ${proxy.url}/metrics`);
    say(`  curl -F file=@photo.jpg ${proxy.url}/predict`);
    say(`  node dist/cli.js evaluate --url ${proxy.url} --data <folder of class folders>`);
    say(`  operator log: ${operator.logPath}; pod logs under ${bed.dir}`);

    const predict = createPredictClient({ baseUrl: proxy.url, timeoutMs: 30_000 });
    step('a prediction on photos the model has never seen:');
    for (const [cls, files] of Object.entries(data.heldOut)) {
      const file = files[0];
      if (!file) continue;
      const out = await predict(await readFile(file), path.basename(file));
      say(out.ok ? `  ${path.basename(file)} (a ${cls}) → ${out.label} (confidence ${out.confidence.toFixed(3)}, model version ${out.version ?? '?'}, ${out.latencyMs.toFixed(0)} ms)` : `  ${path.basename(file)} → failed: ${out.kind} ${out.message}`);
    }

    if (o.exit) {
      await shutdown.run();
      return;
    }
    say('\nPress Ctrl-C to stop everything.');
    // The owner stops everything on the signal and exits.
    await shutdown.signalled;
    await shutdown.run();
  } catch (err) {
    // Interrupted: the owner is stopping everything (which is likely what made this step fail).
    if (shutdown.interruptedBy()) {
      await shutdown.run();
      return;
    }
    process.stderr.write(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    if (operator) process.stderr.write(`operator log: ${operator.logPath}\n`);
    process.exitCode = 1;
    await shutdown.run();
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
