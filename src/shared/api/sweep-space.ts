import { DEFAULT_ARCHITECTURE, imageSizeProblem } from './training-run.js';
import { MAX_SWEEP_TRIALS, type SearchParameters, type TrainingSweepSpec } from './training-sweep.js';

/**
 * Facts about a sweep's search space that both the parser (its rules) and the operator (trial
 * expansion) need. Pure.
 */

/** The searched parameters in the order the grid varies them (the last one fastest). */
export const PARAMETER_ORDER = ['architecture', 'imageSize', 'learningRate', 'epochs', 'batchSize', 'horizontalFlip', 'randomCrop', 'brightness'] as const;
export type ParameterName = (typeof PARAMETER_ORDER)[number];

/** The values list of one parameter, when it has one. */
export function valuesOf(parameters: SearchParameters, name: ParameterName): readonly (string | number | boolean)[] | undefined {
  return (parameters[name] as { values?: readonly (string | number | boolean)[] } | undefined)?.values;
}

/** Combinations of a grid: the product of the lengths of every values list. */
export function gridSize(parameters: SearchParameters): number {
  return PARAMETER_ORDER.reduce((n, name) => n * (valuesOf(parameters, name)?.length ?? 1), 1);
}

/** Trials a sweep runs: maxTrials (Random), or the grid's combinations up to maxTrials (Grid). */
export function trialCount(spec: TrainingSweepSpec): number {
  if (spec.search.algorithm === 'Random') return spec.maxTrials ?? 0;
  return Math.min(gridSize(spec.search.parameters), spec.maxTrials ?? MAX_SWEEP_TRIALS);
}

/**
 * Problems with the space that the CRD's CEL rules cannot see: a grid too big to run without
 * maxTrials, and an image size some architecture of the sweep cannot take (every architecture
 * tried, or the template's, against every image size tried, or the template's).
 */
export function spaceProblems(spec: TrainingSweepSpec): string[] {
  const problems: string[] = [];
  const { parameters } = spec.search;
  if (spec.search.algorithm === 'Grid' && spec.maxTrials === undefined && gridSize(parameters) > MAX_SWEEP_TRIALS) {
    problems.push(`/spec/search: the grid has ${gridSize(parameters)} combinations, more than ${MAX_SWEEP_TRIALS}: set maxTrials or list fewer values`);
  }
  const architectures = parameters.architecture?.values ?? [spec.template.architecture ?? DEFAULT_ARCHITECTURE];
  const sizes = parameters.imageSize?.values ?? (spec.template.hyperparameters?.imageSize !== undefined ? [spec.template.hyperparameters.imageSize] : []);
  if (parameters.architecture || parameters.imageSize) {
    for (const a of new Set(architectures)) {
      for (const s of new Set(sizes)) {
        const problem = imageSizeProblem(a, s);
        if (problem) problems.push(`/spec/search/parameters: a trial would pair architecture ${a} with imageSize ${s}: ${problem}`);
      }
    }
  }
  for (const name of ['learningRate', 'epochs', 'brightness'] as const) {
    const space = parameters[name];
    if (!space) continue;
    if ((space.values === undefined) === (space.min === undefined || space.max === undefined) || (space.values !== undefined && (space.min !== undefined || space.max !== undefined))) {
      problems.push(`/spec/search/parameters/${name}: ${name}: set either values (a list to try) or min and max (a range to draw from), not both`);
    } else if (space.min !== undefined && space.max !== undefined && space.min > space.max) {
      problems.push(`/spec/search/parameters/${name}: ${name}.min must not be above ${name}.max`);
    }
    if (spec.search.algorithm === 'Grid' && space.values === undefined) {
      problems.push('/spec/search: a Grid search needs values for every parameter: ranges (min and max) are for the Random algorithm');
    }
  }
  return problems;
}
