import { createHash } from 'node:crypto';
import { PARAMETER_ORDER, trialCount, valuesOf, type ParameterName } from '../../shared/api/sweep-space.js';
import type { TrainingRunSpec } from '../../shared/api/training-run.js';
import type { TrainingSweepSpec, TrialParameters } from '../../shared/api/training-sweep.js';

/**
 * A sweep's trials: which values each trial tries. Pure and deterministic — the same spec
 * always gives the same trials, so a restarted operator makes the same TrainingRuns.
 *
 * Grid: every combination of the values lists, the last parameter of PARAMETER_ORDER varying
 * fastest; the first maxTrials of them. Random: trial i draws each parameter from a number that
 * depends only on (seed, i, parameter), so raising maxTrials adds trials without changing the
 * earlier ones. A range of learningRate is drawn log-uniformly, of epochs as a whole number,
 * of brightness uniformly; a values list uniformly.
 */

export interface Trial {
  readonly trial: number;
  readonly parameters: TrialParameters;
}

export function expandTrials(spec: TrainingSweepSpec): Trial[] {
  const count = trialCount(spec);
  return Array.from({ length: count }, (_, trial) => ({
    trial,
    parameters: spec.search.algorithm === 'Grid' ? gridPoint(spec, trial) : randomPoint(spec, trial),
  }));
}

function gridPoint(spec: TrainingSweepSpec, index: number): TrialParameters {
  const out: Record<string, unknown> = {};
  let rest = index;
  for (const name of [...PARAMETER_ORDER].reverse()) {
    const values = valuesOf(spec.search.parameters, name);
    if (!values) continue;
    out[name] = values[rest % values.length];
    rest = Math.floor(rest / values.length);
  }
  return ordered(out);
}

/** A number in [0, 1) from (seed, trial, parameter) alone. */
export function uniform(seed: number, trial: number, name: string): number {
  const digest = createHash('sha256').update(`${seed}:${trial}:${name}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/** Three significant digits, kept inside [min, max]: readable values in the leaderboard and the run's spec. */
function round(x: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Number(x.toPrecision(3))));
}

function randomPoint(spec: TrainingSweepSpec, trial: number): TrialParameters {
  const seed = spec.search.seed ?? 0;
  const p = spec.search.parameters;
  const out: Record<string, unknown> = {};
  for (const name of PARAMETER_ORDER) {
    const u = uniform(seed, trial, name);
    const values = valuesOf(p, name);
    if (values) {
      out[name] = values[Math.min(values.length - 1, Math.floor(u * values.length))];
      continue;
    }
    const range = rangeOf(p, name);
    if (!range) continue;
    const { min, max } = range;
    if (name === 'learningRate') out[name] = round(Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min))), min, max);
    else if (name === 'epochs') out[name] = min + Math.min(max - min, Math.floor(u * (max - min + 1)));
    else out[name] = round(min + u * (max - min), min, max);
  }
  return ordered(out);
}

function rangeOf(p: TrainingSweepSpec['search']['parameters'], name: ParameterName): { min: number; max: number } | undefined {
  if (name !== 'learningRate' && name !== 'epochs' && name !== 'brightness') return undefined;
  const space = p[name];
  return space?.min !== undefined && space.max !== undefined ? { min: space.min, max: space.max } : undefined;
}

function ordered(values: Record<string, unknown>): TrialParameters {
  const out: Record<string, unknown> = {};
  for (const name of PARAMETER_ORDER) if (values[name] !== undefined) out[name] = values[name];
  return out as TrialParameters;
}

/** The template with a trial's values set in it (a new object; the template is not touched). */
export function trialSpec(template: TrainingRunSpec, parameters: TrialParameters): TrainingRunSpec {
  const spec = structuredClone(template) as TrainingRunSpec;
  if (parameters.architecture !== undefined) spec.architecture = parameters.architecture;
  const h = { ...spec.hyperparameters };
  if (parameters.learningRate !== undefined) h.learningRate = parameters.learningRate;
  if (parameters.epochs !== undefined) h.epochs = parameters.epochs;
  if (parameters.batchSize !== undefined) h.batchSize = parameters.batchSize;
  if (parameters.imageSize !== undefined) h.imageSize = parameters.imageSize;
  const aug = { ...h.augmentation };
  if (parameters.horizontalFlip !== undefined) aug.horizontalFlip = parameters.horizontalFlip;
  if (parameters.randomCrop !== undefined) aug.randomCrop = parameters.randomCrop;
  if (parameters.brightness !== undefined) aug.brightness = parameters.brightness;
  if (Object.keys(aug).length > 0) h.augmentation = aug;
  if (Object.keys(h).length > 0) spec.hyperparameters = h;
  return spec;
}
