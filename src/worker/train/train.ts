import type { MetricsSummary, WorkerSuccess } from '../../shared/api/worker-report.js';
import { TerminalError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { joinUri, type Storage } from '../../shared/storage/index.js';
import { codeVersion } from '../../shared/version.js';
import { saveArtifact } from '../../ml/artifact.js';
import { calibrationOf, type Calibration, type ReliabilityBin } from '../../ml/calibration.js';
import type { FitResult } from '../../ml/fit/fit.js';
import type { ModelMetadata, ModelMetadataInput } from '../../ml/metadata.js';
import type { BackendPreference, SelectedBackend } from '../../ml/backend/select.js';
import { loadDataset, type DuplicateFile, type LoadedSource, type SkippedFile } from '../dataset/load-dataset.js';
import { splitDataset, type SplitData } from '../dataset/split-dataset.js';
import { evaluateArtifact } from '../evaluate/evaluate-model.js';
import { mostConfidentMistakes } from '../report/confident-mistakes.js';
import { mistakeSources } from '../report/thumbnails.js';
import { writeReport } from '../report/write-report.js';
import type { EpochLog } from '../../ml/fit/types.js';
import type { FitFunction } from './default-fit.js';
import type { TrainConfig } from './options.js';
import type { ProgressReporter } from './progress.js';

export interface TrainDeps {
  readonly logger: Logger;
  readonly progress: ProgressReporter;
  readonly fit: FitFunction;
  readonly selectBackend: (options: { preference: BackendPreference; logger: Logger }) => Promise<SelectedBackend>;
  readonly storageFor: (uri: string) => Storage;
  readonly now?: () => Date;
}

/** metrics.json beside the model: the test-split summary at top level, then how it was obtained. */
export interface MetricsFile extends MetricsSummary {
  readonly classes: readonly string[];
  readonly split: { readonly train: number; readonly validation: number; readonly test: number; readonly fractions: TrainConfig['split']; readonly seed: number };
  readonly training: {
    readonly epochsRun: number;
    readonly bestEpoch: number;
    readonly stoppedEarly: boolean;
    readonly seconds: number;
    readonly imagesPerSecond: number;
    readonly history: readonly EpochLog[];
    /** Pretrained recipe: the head phase on frozen features, before the fine-tuning epochs of `history`. */
    readonly headHistory?: readonly EpochLog[];
    /** Pretrained recipe: seconds spent computing backbone features, training the head, fine-tuning. */
    readonly stageSeconds?: { readonly features: number; readonly head: number; readonly fineTune: number };
  };
  readonly dataset: {
    readonly uri: string;
    readonly digest: string;
    readonly sources: readonly LoadedSource[];
    readonly skipped: readonly SkippedFile[];
    readonly duplicates: readonly DuplicateFile[];
    readonly ignored: readonly string[];
  };
  /** On the test split; `temperature` (pretrained recipe) was fitted on the validation split. */
  readonly calibration: { readonly temperature?: number; readonly expectedCalibrationError: number; readonly reliability: readonly ReliabilityBin[] };
  readonly pretrained?: ModelMetadata['pretrained'];
  readonly backend: string;
}

/**
 * `kennel train`, start to end: pick the backend, load and split the dataset, fit, save the
 * artifact, evaluate the RELOADED artifact on the test split, write metrics.json and the report.
 * Returns the success outcome; throws TerminalError (or storage errors) on failure.
 */
export async function runTraining(config: TrainConfig, deps: TrainDeps): Promise<WorkerSuccess> {
  const { logger, progress } = deps;
  const now = deps.now ?? (() => new Date());
  const backend = await deps.selectBackend({ preference: config.backend, logger });
  const outStorage = deps.storageFor(config.outUri);
  const data = await loadSplits(config, deps);
  const { splits, classes } = data;

  progress.stage(`training ${config.architecture} at ${config.imageSize}px on ${splits.train.count} images (backend ${backend.name})`);
  const started = performance.now();
  const result = await deps.fit({
    spec: { architecture: config.architecture, imageSize: config.imageSize, numClasses: classes.length, seed: config.seed },
    train: splits.train,
    validation: splits.validation,
    epochs: config.epochs,
    batchSize: config.batchSize,
    learningRate: config.learningRate,
    augmentation: config.augmentation,
    // No early stopping is a patience longer than the run.
    earlyStopping: config.earlyStopping ?? { patience: config.epochs + 1 },
    seed: config.seed,
    backend: config.backend,
    onEpoch: (log) => progress.epoch(log),
    onBatch: (info) => progress.batch(info),
    onStage: (message) => progress.stage(message),
    onProgress: (done, total) => progress.decoding(done, total, 'computing features'),
  });
  const seconds = (performance.now() - started) / 1000;
  const last = result.history.at(-1);
  if (!last || !Number.isFinite(last.loss)) {
    result.model.dispose();
    throw new TerminalError('TrainingDiverged', `training loss became ${last?.loss ?? 'undefined'} at epoch ${last?.epoch ?? 0}: lower --learning-rate`);
  }

  progress.stage(`saving ${config.outUri}`);
  const metadata = await saveArtifact(config.outUri, result.model, artifactMetadata(config, data, result, result.backend || backend.name, now()), outStorage);
  result.model.dispose();

  progress.stage(`evaluating the saved model on ${splits.test.count} test images`);
  const { metrics, probabilities } = await evaluateArtifact({ modelUri: config.outUri, storage: outStorage, data: splits.test });
  const calibration = testCalibration(splits.test.labels, probabilities, classes.length);
  const training = { result, seconds };
  await outStorage.write(joinUri(config.outUri, 'metrics.json'), `${JSON.stringify(metricsFile(config, data, training, metrics, metadata, calibration), null, 2)}\n`, { contentType: 'application/json' });
  const { mistakes, wrong } = mostConfidentMistakes(splits.test.labels, probabilities, classes, splits.test.names);
  await writeReport(outStorage, {
    artifactUri: config.outUri,
    calibration,
    metadata,
    metrics,
    history: result.history,
    ...(result.pretrained ? { headHistory: result.pretrained.headHistory } : {}),
    bestEpoch: result.bestEpoch,
    stoppedEarly: result.stoppedEarly,
    trainingSeconds: seconds,
    splits: { train: splits.train.count, validation: splits.validation.count, test: splits.test.count },
    skipped: data.skipped,
    duplicates: data.duplicates,
    ignored: data.ignored,
  }, { mistakes: { mistakes, wrong, sources: mistakeSources(mistakes, splits.test, deps.storageFor) }, logger });
  logger.info({ artifact: config.outUri, accuracy: metrics.accuracy, f1: metrics.f1, testImages: metrics.testImages, seconds }, 'training finished');
  return {
    outcome: 'Succeeded',
    artifactUri: config.outUri,
    format: 'tfjs-layers',
    sha256: metadata.sha256,
    classes: [...classes],
    inputShape: [config.imageSize, config.imageSize, 3],
    datasetUri: config.dataUri,
    datasetDigest: data.digest,
    datasetSources: data.sources.map((src) => ({ uri: src.uri, type: src.type, digest: src.digest, images: src.images })),
    skippedFiles: data.skipped.length,
    metrics,
    codeVersion: metadata.codeVersion,
    backend: metadata.backend,
  };
}

/** The dataset, split, with what was left out of it; the per-image buffers are let go once packed into the splits. */
interface Splits {
  readonly splits: { readonly train: SplitData; readonly validation: SplitData; readonly test: SplitData };
  readonly classes: readonly string[];
  readonly skipped: readonly SkippedFile[];
  readonly duplicates: readonly DuplicateFile[];
  readonly ignored: readonly string[];
  readonly digest: string;
  readonly sources: readonly LoadedSource[];
}

async function loadSplits(config: TrainConfig, deps: TrainDeps): Promise<Splits> {
  deps.progress.stage(`loading ${config.sources.map((src) => src.uri).join(', ')}`);
  const dataset = await loadDataset({
    sources: config.sources,
    storageOf: deps.storageFor,
    imageSize: config.imageSize,
    resize: config.resize,
    concurrency: config.concurrency,
    logger: deps.logger,
    onProgress: (done, total) => deps.progress.decoding(done, total),
    ...(config.classes ? { classes: config.classes } : {}),
  });
  const splits = splitDataset(dataset, config.split, config.splitSeed);
  if (splits.validation.count === 0) {
    throw new TerminalError('InvalidDataset', `the validation split is empty (${dataset.images.length} images, fractions ${JSON.stringify(config.split)}): early stopping and best-weight selection need validation images`);
  }
  deps.logger.info({ train: splits.train.count, validation: splits.validation.count, test: splits.test.count }, 'dataset split');
  const { classes, skipped, duplicates, ignored, digest, sources } = dataset;
  return { splits, classes, skipped, duplicates, ignored, digest, sources };
}

/** metadata.json of the artifact: what it classifies, how its input is prepared, and how it was trained. */
function artifactMetadata(config: TrainConfig, data: Splits, result: FitResult, backend: string, createdAt: Date): ModelMetadataInput {
  const pretrained = result.pretrained;
  return {
    classes: [...data.classes],
    inputShape: [config.imageSize, config.imageSize, 3],
    preprocessing: { resize: config.resize, size: config.imageSize, scale: 1 / 255 },
    dataset: { uri: config.dataUri, digest: data.digest },
    hyperparameters: {
      architecture: config.architecture,
      imageSize: config.imageSize,
      epochs: config.epochs,
      batchSize: config.batchSize,
      learningRate: config.learningRate,
      seed: config.seed,
      horizontalFlip: config.augmentation.horizontalFlip,
      randomCrop: config.augmentation.randomCrop ?? false,
      brightness: config.augmentation.brightness ?? 0,
      earlyStoppingPatience: config.earlyStopping?.patience ?? 0,
      splitTrain: config.split.train,
      splitValidation: config.split.validation,
      splitTest: config.split.test,
      splitSeed: config.splitSeed,
    },
    architecture: config.architecture,
    ...(pretrained
      ? {
          pretrained: { ...pretrained.backbone, trainableBlocks: [...pretrained.backbone.trainableBlocks] },
          calibration: { temperature: pretrained.temperature, fittedOn: 'validation' as const },
        }
      : {}),
    backend,
    codeVersion: codeVersion(),
    createdAt: createdAt.toISOString(),
  };
}

/** The test split's calibration: expected calibration error and the reliability diagram's bins. */
function testCalibration(labels: Int32Array, probabilities: Float32Array, k: number): Calibration {
  const n = labels.length;
  const confidence = new Float64Array(n);
  const correct: boolean[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if ((probabilities[i * k + c] as number) > (probabilities[i * k + best] as number)) best = c;
    confidence[i] = probabilities[i * k + best] as number;
    correct.push(best === labels[i]);
  }
  return calibrationOf(confidence, correct);
}

function metricsFile(config: TrainConfig, data: Splits, training: { result: FitResult; seconds: number }, metrics: MetricsSummary, metadata: ModelMetadata, calibration: Calibration): MetricsFile {
  const { splits } = data;
  const { result, seconds } = training;
  return {
    ...metrics,
    classes: data.classes,
    split: { train: splits.train.count, validation: splits.validation.count, test: splits.test.count, fractions: config.split, seed: config.splitSeed },
    training: {
      epochsRun: result.history.length,
      bestEpoch: result.bestEpoch,
      stoppedEarly: result.stoppedEarly,
      seconds,
      imagesPerSecond: (result.history.length * splits.train.count) / seconds,
      history: result.history,
      ...(result.pretrained ? { headHistory: result.pretrained.headHistory, stageSeconds: result.pretrained.seconds } : {}),
    },
    dataset: { uri: config.dataUri, digest: data.digest, sources: data.sources, skipped: data.skipped, duplicates: data.duplicates, ignored: data.ignored },
    calibration: { ...(metadata.calibration ? { temperature: metadata.calibration.temperature } : {}), expectedCalibrationError: calibration.ece, reliability: calibration.bins },
    ...(metadata.pretrained ? { pretrained: metadata.pretrained } : {}),
    backend: metadata.backend,
  };
}
