import { TerminalError } from '../../shared/errors.js';
import { ARCHITECTURES, DEFAULT_ARCHITECTURE, defaultHyperparameters, imageSizeRule, isArchitecture, type Architecture } from '../../ml/architectures.js';
import { BACKEND_PREFERENCES, type BackendPreference } from '../../ml/backend/select.js';
import type { ResizeMode } from '../../ml/image.js';
import { DEFAULT_SPLIT, validateSplit, type SplitFractions } from '../dataset/split.js';
import type { Augmentation } from '../../ml/fit/types.js';
import type { DatasetSource } from '../dataset/list-sources.js';

/** Everything `kennel train` does, parsed and validated once at the boundary. */
export interface TrainConfig {
  /** The first source's URI (what a single-source run was trained on). */
  readonly dataUri: string;
  /** Every source: the `--data` prefixes, then the `--prediction-log` prefixes. */
  readonly sources: readonly DatasetSource[];
  readonly outUri: string;
  readonly architecture: Architecture;
  readonly imageSize: number;
  readonly resize: ResizeMode;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly seed: number;
  readonly augmentation: Augmentation;
  /** undefined: train every epoch; otherwise stop after `patience` epochs without a better validation loss. */
  readonly earlyStopping?: { readonly patience: number };
  readonly split: SplitFractions;
  readonly splitSeed: number;
  readonly classes?: readonly string[];
  readonly backend: BackendPreference;
  readonly concurrency: number;
}

/** The raw option bag commander hands over (strings as typed, booleans for switches). */
export interface RawTrainOptions {
  /** One `--data` or several (the option repeats). */
  data?: string | string[];
  predictionLog?: string | string[];
  out?: string;
  architecture?: string;
  imageSize?: string;
  resize?: string;
  epochs?: string;
  batchSize?: string;
  learningRate?: string;
  seed?: string;
  augmentation?: boolean;
  flip?: boolean;
  randomCrop?: boolean;
  brightness?: string;
  patience?: string;
  split?: string;
  splitSeed?: string;
  classes?: string;
  backend?: string;
  concurrency?: string;
}

function invalid(message: string): TerminalError {
  return new TerminalError('InvalidArguments', message);
}

export function parseInteger(name: string, raw: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw invalid(`--${name} must be an integer, got ${JSON.stringify(raw)}`);
  const v = Number(raw);
  if (v < min || v > max) throw invalid(`--${name} must be between ${min} and ${max}, got ${v}`);
  return v;
}

export function parseNumber(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v <= min || v > max) throw invalid(`--${name} must be a number in (${min}, ${max}], got ${JSON.stringify(raw)}`);
  return v;
}

export function parseSplit(raw: string | undefined): SplitFractions {
  if (raw === undefined) return DEFAULT_SPLIT;
  const parts = raw.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p))) throw invalid(`--split must be three fractions train,validation,test (e.g. 0.8,0.1,0.1), got ${JSON.stringify(raw)}`);
  try {
    return validateSplit({ train: parts[0] as number, validation: parts[1] as number, test: parts[2] as number });
  } catch (err) {
    throw invalid(`--split: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function parseClasses(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const classes = raw.split(',').map((c) => c.trim()).filter((c) => c.length > 0);
  if (classes.length < 2) throw invalid(`--classes needs at least two comma-separated class names, got ${JSON.stringify(raw)}`);
  if (classes.some((c) => c.includes('/'))) throw invalid('--classes names folders directly under --data and cannot contain "/"');
  return classes;
}

function parseBrightness(raw: string): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < 0 || v > 1) throw invalid(`--brightness must be a number in [0, 1], got ${JSON.stringify(raw)}`);
  return v;
}

function parseImageSize(raw: string | undefined, fallback: number, architecture: Architecture, rule: { min: number; multiple: number }): number {
  const size = parseInteger('image-size', raw, fallback, rule.min, 512);
  if (size % rule.multiple !== 0) throw invalid(`--image-size must be a multiple of ${rule.multiple} for ${architecture} (e.g. ${Math.max(rule.min, Math.round(size / rule.multiple) * rule.multiple)}), got ${size}`);
  return size;
}

/** Validates the CLI options against the architecture's defaultHyperparameters; throws TerminalError('InvalidArguments'). */
export function parseTrainOptions(raw: RawTrainOptions): TrainConfig {
  const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const sources: DatasetSource[] = [...list(raw.data).map((uri) => ({ uri, type: 'ClassFolders' as const })), ...list(raw.predictionLog).map((uri) => ({ uri, type: 'PredictionLog' as const }))];
  if (sources.length === 0) throw invalid('--data <uri> is required (a file://, gs:// or local path prefix with one folder per class; repeat it, or add --prediction-log <uri>, for several sources)');
  if (sources.some((src) => src.uri.trim() === '')) throw invalid('--data and --prediction-log need a URI');
  if (!raw.out) throw invalid('--out <uri> is required (where the model artifact is written)');
  const architecture = raw.architecture ?? DEFAULT_ARCHITECTURE;
  if (!isArchitecture(architecture)) throw invalid(`--architecture must be one of ${ARCHITECTURES.join(', ')}, got ${JSON.stringify(architecture)}`);
  const d = defaultHyperparameters(architecture);
  const backend = raw.backend ?? 'auto';
  if (!(BACKEND_PREFERENCES as readonly string[]).includes(backend)) throw invalid(`--backend must be one of ${BACKEND_PREFERENCES.join(', ')}, got ${JSON.stringify(backend)}`);
  const resize = raw.resize ?? 'cover';
  if (resize !== 'cover' && resize !== 'fill') throw invalid(`--resize must be cover or fill, got ${JSON.stringify(resize)}`);
  const sizeRule = imageSizeRule(architecture);
  const patience = parseInteger('patience', raw.patience, d.earlyStopping.patience, 0, 1000);
  const augment = raw.augmentation !== false;
  const classes = parseClasses(raw.classes);
  return Object.freeze({
    dataUri: (sources[0] as DatasetSource).uri,
    sources,
    outUri: raw.out,
    architecture,
    imageSize: parseImageSize(raw.imageSize, d.imageSize, architecture, sizeRule),
    resize,
    epochs: parseInteger('epochs', raw.epochs, d.epochs, 1, 10_000),
    batchSize: parseInteger('batch-size', raw.batchSize, d.batchSize, 1, 4096),
    learningRate: parseNumber('learning-rate', raw.learningRate, d.learningRate, 0, 10),
    seed: parseInteger('seed', raw.seed, 42, 0, 2 ** 31 - 1),
    augmentation: augment
      ? {
          horizontalFlip: raw.flip ?? d.augmentation.horizontalFlip,
          randomCrop: raw.randomCrop ?? d.augmentation.randomCrop ?? false,
          brightness: raw.brightness === undefined ? (d.augmentation.brightness ?? 0) : parseBrightness(raw.brightness),
        }
      : { horizontalFlip: false, randomCrop: false, brightness: 0 },
    ...(patience > 0 ? { earlyStopping: { patience } } : {}),
    split: parseSplit(raw.split),
    splitSeed: parseInteger('split-seed', raw.splitSeed, 0, 0, 2 ** 31 - 1),
    ...(classes ? { classes } : {}),
    backend: backend as BackendPreference,
    concurrency: parseInteger('concurrency', raw.concurrency, 8, 1, 256),
  });
}
