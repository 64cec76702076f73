import type { ComparedModel, HyperparameterValue, Lineage } from './compared-model.js';

/** Whether a larger value of a figure is better (accuracy) or worse (calibration error). */
export type Better = 'higher' | 'lower';

/** One figure across the models, with each model's difference from the first. */
export interface FigureRow {
  readonly key: string;
  readonly label: string;
  readonly better: Better;
  /** One per model, in order; undefined where a model does not record it. */
  readonly values: readonly (number | undefined)[];
  /** values[i] − values[0]; undefined for the first model and wherever either is missing. */
  readonly deltas: readonly (number | undefined)[];
}

export interface ClassRows {
  readonly className: string;
  readonly precision: FigureRow;
  readonly recall: FigureRow;
  readonly f1: FigureRow;
  readonly support: readonly (number | undefined)[];
}

/** A setting or a lineage fact across the models; `differs` when not every model has the same one. */
export interface FactRow {
  readonly key: string;
  readonly values: readonly (HyperparameterValue | undefined)[];
  readonly differs: boolean;
}

export interface Comparison {
  readonly models: readonly ComparedModel[];
  readonly metrics: readonly FigureRow[];
  readonly perClass: readonly ClassRows[];
  readonly hyperparameters: readonly FactRow[];
  readonly lineage: readonly FactRow[];
  /** What a reader must know before trusting the deltas (different test images, different classes) and what is missing. */
  readonly notes: readonly string[];
}

const METRICS: readonly { key: string; label: string; better: Better; get: (m: ComparedModel) => number | undefined }[] = [
  { key: 'accuracy', label: 'accuracy', better: 'higher', get: (m) => m.metrics.accuracy },
  { key: 'f1', label: 'F1 (macro)', better: 'higher', get: (m) => m.metrics.f1 },
  { key: 'precision', label: 'precision (macro)', better: 'higher', get: (m) => m.metrics.precision },
  { key: 'recall', label: 'recall (macro)', better: 'higher', get: (m) => m.metrics.recall },
  { key: 'rocAuc', label: 'ROC-AUC', better: 'higher', get: (m) => m.metrics.rocAuc },
  { key: 'ece', label: 'ECE (calibration error)', better: 'lower', get: (m) => m.metrics.expectedCalibrationError },
  { key: 'meanConfidence', label: 'mean confidence', better: 'higher', get: (m) => m.metrics.meanConfidence },
];

const LINEAGE_KEYS: readonly Exclude<keyof Lineage, 'sources'>[] = ['datasetUri', 'datasetDigest', 'split', 'trainingRun', 'codeVersion', 'backend', 'workerImage', 'createdAt', 'sha256'];

export function figureRow(key: string, label: string, better: Better, values: readonly (number | undefined)[]): FigureRow {
  const first = values[0];
  const deltas = values.map((v, i) => (i === 0 || v === undefined || first === undefined ? undefined : v - first));
  return { key, label, better, values, deltas };
}

function factRow(key: string, values: readonly (HyperparameterValue | undefined)[]): FactRow {
  const shown = values.map((v) => JSON.stringify(v ?? null));
  return { key, values, differs: new Set(shown).size > 1 };
}

/** The classes of every model, the first model's order first, then any others in order of appearance. */
export function unionOfClasses(models: readonly ComparedModel[]): string[] {
  const out: string[] = [];
  for (const m of models) for (const c of m.classes) if (!out.includes(c)) out.push(c);
  return out;
}

function classRows(models: readonly ComparedModel[], c: string): ClassRows {
  const get = (f: 'precision' | 'recall' | 'f1') => models.map((m) => m.metrics.perClass[c]?.[f]);
  return {
    className: c,
    precision: figureRow(`${c}.precision`, 'precision', 'higher', get('precision')),
    recall: figureRow(`${c}.recall`, 'recall', 'higher', get('recall')),
    f1: figureRow(`${c}.f1`, 'F1', 'higher', get('f1')),
    support: models.map((m) => m.metrics.perClass[c]?.support),
  };
}

/** Why the figures may not compare like with like. */
function cautions(models: readonly ComparedModel[], hyperparameters: readonly FactRow[]): string[] {
  const out: string[] = [];
  const classSets = new Set(models.map((m) => [...m.classes].sort().join('\u0000')));
  if (classSets.size > 1) out.push('the models do not classify the same classes: per-class rows are blank where a model lacks the class');
  const digests = new Set(models.map((m) => m.lineage.datasetDigest ?? '?'));
  const splits = new Set(models.map((m) => m.lineage.split ?? '?'));
  const sizes = new Set(models.map((m) => m.metrics.testImages));
  if (digests.size > 1 || splits.size > 1 || sizes.size > 1) {
    const why = [digests.size > 1 ? 'dataset digests' : '', splits.size > 1 ? 'splits' : '', sizes.size > 1 ? 'test image counts' : ''].filter(Boolean).join(', ');
    out.push(`the models were not tested on the same images (different ${why}): the deltas compare figures measured on different test sets`);
  }
  if (hyperparameters.length > 0 && !hyperparameters.some((h) => h.differs) && digests.size === 1 && models.length > 1) {
    out.push('same hyperparameters and dataset: differences are run-to-run variation');
  }
  return out;
}

/**
 * Lines the models up: every metric and per-class figure with its delta against the first
 * model, every hyperparameter and lineage fact with whether they differ, and the cautions a
 * reader needs. Pure: the models are read elsewhere.
 */
export function compareModels(models: readonly ComparedModel[]): Comparison {
  if (models.length < 2) throw new Error(`compare needs at least two models, got ${models.length}`);
  const metrics = METRICS.map((d) => figureRow(d.key, d.label, d.better, models.map(d.get))).filter((r) => r.values.some((v) => v !== undefined));
  const perClass = unionOfClasses(models).map((c) => classRows(models, c));
  const keys = [...new Set(models.flatMap((m) => Object.keys(m.hyperparameters)))].sort();
  const hyperparameters = keys.map((k) => factRow(k, models.map((m) => m.hyperparameters[k])));
  const lineage = LINEAGE_KEYS.map((k) => factRow(k, models.map((m) => m.lineage[k])))
    .filter((r) => r.values.some((v) => v !== undefined));
  const sources = models.map((m) => m.lineage.sources?.map((s) => `${s.type} ${s.uri} (${s.images} images, ${s.digest.slice(0, 19)})`).join('; '));
  if (sources.some((s) => s !== undefined)) lineage.splice(2, 0, factRow('sources', sources));
  const notes = [...cautions(models, hyperparameters), ...models.flatMap((m) => m.notes)];
  return { models, metrics, perClass, hyperparameters, lineage, notes };
}
