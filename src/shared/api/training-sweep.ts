import { Type, type Static } from '@sinclair/typebox';
import { Conditions, Resource, StringEnum, type KubeSchemaOptions } from './common.js';
import { Architectures, TrainingRunSpec } from './training-run.js';

/**
 * TrainingSweep: "find the best of these configurations". A TrainingRun template plus a search
 * space (a grid, or random draws from a seed); the operator makes one TrainingRun per trial
 * (owned by the sweep, named `<sweep>-<trial>`), keeps at most `parallelism` of them running,
 * ranks the finished ones by an objective measured on their ModelVersions, and marks only the
 * best one's ModelVersion eligible for serving.
 */

export const TRAINING_SWEEP_KIND = 'TrainingSweep';
export const TRAINING_SWEEP_PLURAL = 'trainingsweeps';

/** Most trials one sweep may make (each is a TrainingRun, listed in the leaderboard). */
export const MAX_SWEEP_TRIALS = 100;
/** Most trials running at once. */
export const MAX_SWEEP_PARALLELISM = 20;
/** Most values one parameter may list. */
const MAX_VALUES = 20;

export const SearchAlgorithms = ['Grid', 'Random'] as const;
export type SearchAlgorithm = (typeof SearchAlgorithms)[number];

/** Figures of a trial's ModelVersion (measured on its held-out test split) a sweep can rank by. */
export const ObjectiveMetrics = ['accuracy', 'f1', 'precision', 'recall', 'rocAuc', 'expectedCalibrationError'] as const;
export type ObjectiveMetric = (typeof ObjectiveMetrics)[number];

export const ObjectiveDirections = ['Maximize', 'Minimize'] as const;
export type ObjectiveDirection = (typeof ObjectiveDirections)[number];

/** The direction a metric is ranked in when the spec does not say: lower is better only for the calibration error. */
export function defaultDirection(metric: ObjectiveMetric): ObjectiveDirection {
  return metric === 'expectedCalibrationError' ? 'Minimize' : 'Maximize';
}

/** A numeric parameter: a list of values, or (Random only) a range. */
function numberSpace(field: string, description: string, bounds: { integer: boolean; min: number; max: number; exclusiveMin?: boolean }) {
  const one = (what: string) =>
    bounds.integer
      ? Type.Integer({ description: what, minimum: bounds.min, maximum: bounds.max })
      : Type.Number({ description: what, ...(bounds.exclusiveMin ? { exclusiveMinimum: bounds.min } : { minimum: bounds.min }), maximum: bounds.max });
  return Type.Optional(
    Type.Object(
      {
        values: Type.Optional(
          Type.Array(one('A value to try.'), { description: 'Values to try (Grid: each one; Random: drawn uniformly).', minItems: 1, maxItems: MAX_VALUES }),
        ),
        min: Type.Optional(one('Lower end of the range (Random only).')),
        max: Type.Optional(one('Upper end of the range (Random only).')),
      },
      {
        description,
        'x-kubernetes-validations': [
          {
            rule: 'has(self.values) ? !has(self.min) && !has(self.max) : has(self.min) && has(self.max)',
            message: `${field}: set either values (a list to try) or min and max (a range to draw from), not both`,
          },
          { rule: '!has(self.min) || !has(self.max) || self.min <= self.max', message: `${field}.min must not be above ${field}.max` },
        ],
      } satisfies KubeSchemaOptions,
    ),
  );
}

/** A parameter with a list of values only. */
function choiceSpace<T extends ReturnType<typeof Type.Integer> | ReturnType<typeof Type.Boolean> | ReturnType<typeof StringEnum>>(item: T, description: string) {
  return Type.Optional(
    Type.Object(
      { values: Type.Array(item, { description: 'Values to try (Grid: each one; Random: drawn uniformly).', minItems: 1, maxItems: MAX_VALUES }) },
      { description },
    ),
  );
}

export const SearchParameters = Type.Object(
  {
    architecture: choiceSpace(StringEnum(Architectures, { description: 'An architecture.' }), 'spec.architecture of each trial.'),
    learningRate: numberSpace('learningRate', 'hyperparameters.learningRate: values, or a range drawn log-uniformly (Random).', {
      integer: false,
      min: 0,
      max: 10,
      exclusiveMin: true,
    }),
    epochs: numberSpace('epochs', 'hyperparameters.epochs: values, or a range drawn uniformly as whole numbers (Random).', { integer: true, min: 1, max: 10000 }),
    batchSize: choiceSpace(Type.Integer({ description: 'A batch size.', minimum: 1, maximum: 4096 }), 'hyperparameters.batchSize.'),
    imageSize: choiceSpace(
      Type.Integer({ description: 'An image size (it must suit every architecture of the sweep).', minimum: 16, maximum: 512 }),
      'hyperparameters.imageSize.',
    ),
    horizontalFlip: choiceSpace(Type.Boolean({ description: 'On or off.' }), 'hyperparameters.augmentation.horizontalFlip.'),
    randomCrop: choiceSpace(Type.Boolean({ description: 'On or off.' }), 'hyperparameters.augmentation.randomCrop.'),
    brightness: numberSpace('brightness', 'hyperparameters.augmentation.brightness: values, or a range drawn uniformly (Random).', {
      integer: false,
      min: 0,
      max: 1,
    }),
  },
  {
    description:
      'The parameters the sweep varies; each one set overrides the template\'s value in every trial, each one left out keeps the template\'s.',
  },
);
export type SearchParameters = Static<typeof SearchParameters>;

export const SweepSearch = Type.Object(
  {
    algorithm: StringEnum(SearchAlgorithms, {
      description:
        'Grid: every combination of the parameters\' values, in a fixed order (the first maxTrials of them). Random: maxTrials draws, each from the seed and its trial number only.',
    }),
    seed: Type.Optional(
      Type.Integer({ description: 'Random only: the same seed always draws the same trials (default 0).', minimum: 0, maximum: 2147483647 }),
    ),
    parameters: SearchParameters,
  },
  {
    description: 'The search space and how it is explored.',
    'x-kubernetes-validations': [
      { rule: "self.algorithm == 'Random' || !has(self.seed)", message: 'search.seed applies only to the Random algorithm' },
      {
        rule: "self.algorithm != 'Grid' || ((!has(self.parameters.learningRate) || has(self.parameters.learningRate.values)) && (!has(self.parameters.epochs) || has(self.parameters.epochs.values)) && (!has(self.parameters.brightness) || has(self.parameters.brightness.values)))",
        message: 'a Grid search needs values for every parameter: ranges (min and max) are for the Random algorithm',
      },
    ],
  } satisfies KubeSchemaOptions,
);
export type SweepSearch = Static<typeof SweepSearch>;

export const SweepObjective = Type.Object(
  {
    metric: StringEnum(ObjectiveMetrics, {
      description:
        'The trial ModelVersion\'s figure to rank by, measured on its held-out test split: accuracy, f1, precision, recall (macro averages), rocAuc or expectedCalibrationError.',
    }),
    direction: Type.Optional(
      StringEnum(ObjectiveDirections, { description: 'Maximize or Minimize (default: Minimize for expectedCalibrationError, Maximize for the others).' }),
    ),
  },
  { description: 'How trials are ranked. Ties go to the lower trial number.' },
);
export type SweepObjective = Static<typeof SweepObjective>;

export const EarlyStoppingAlgorithms = ['Median'] as const;
export type EarlyStoppingAlgorithm = (typeof EarlyStoppingAlgorithms)[number];
/** Defaults of earlyStopping (reported in status.earlyStopping). */
export const DEFAULT_MIN_EPOCHS = 3;
export const DEFAULT_MIN_TRIALS = 3;

/** Why minTrials must be below the number of trials (the CEL rule's message, and the parser's). */
export const earlyStoppingTrialsMessage = `earlyStopping.minTrials (default ${DEFAULT_MIN_TRIALS}) must be below the number of trials (maxTrials): a trial is compared with at least minTrials other trials, so with fewer none would ever be stopped`;

export const EarlyStopping = Type.Object(
  {
    algorithm: StringEnum(EarlyStoppingAlgorithms, {
      description:
        'Median: a trial is stopped after epoch e (e >= minEpochs) when its best validation accuracy so far is below the median, over the other trials that reached epoch e, of their mean validation accuracy over epochs 1..e.',
    }),
    minEpochs: Type.Optional(
      Type.Integer({ description: `Epochs a trial always trains before it may be stopped (default ${DEFAULT_MIN_EPOCHS}).`, minimum: 1, maximum: 10000 }),
    ),
    minTrials: Type.Optional(
      Type.Integer({
        description: `Other trials that must have reached the epoch before a trial is compared with them (default ${DEFAULT_MIN_TRIALS}).`,
        minimum: 1,
        maximum: MAX_SWEEP_TRIALS - 1,
      }),
    ),
  },
  { description: 'Stop hopeless trials early (off when absent). A stopped trial frees its slot, never wins and is not counted as failed.' },
);
export type EarlyStopping = Static<typeof EarlyStopping>;

export const TrainingSweepSpec = Type.Object(
  {
    template: TrainingRunSpec,
    search: SweepSearch,
    maxTrials: Type.Optional(
      Type.Integer({
        description: `Trials to run (1 to ${MAX_SWEEP_TRIALS}): required for Random; for Grid, at most this many combinations (default: all of them, at most ${MAX_SWEEP_TRIALS}).`,
        minimum: 1,
        maximum: MAX_SWEEP_TRIALS,
      }),
    ),
    parallelism: Type.Optional(
      Type.Integer({ description: `Trials running at once (default 1, at most ${MAX_SWEEP_PARALLELISM}).`, minimum: 1, maximum: MAX_SWEEP_PARALLELISM }),
    ),
    objective: SweepObjective,
    earlyStopping: Type.Optional(EarlyStopping),
  },
  {
    description: 'The TrainingRun template, the search space, and how trials are run and ranked.',
    'x-kubernetes-validations': [
      { rule: "self.search.algorithm != 'Random' || has(self.maxTrials)", message: 'maxTrials is required for a Random search: it is the number of draws' },
      {
        rule: '!has(self.template.outputUri)',
        message: 'template.outputUri must be left out: every trial writes its own artifact under the operator\'s artifact root',
      },
      {
        rule: `!has(self.earlyStopping) || !has(self.maxTrials) || (has(self.earlyStopping.minTrials) ? self.earlyStopping.minTrials : ${DEFAULT_MIN_TRIALS}) < self.maxTrials`,
        message: earlyStoppingTrialsMessage,
      },
    ],
  } satisfies KubeSchemaOptions,
);
export type TrainingSweepSpec = Static<typeof TrainingSweepSpec>;

export const TrainingSweepPhases = ['Pending', 'Running', 'Succeeded', 'Failed'] as const;
export type TrainingSweepPhase = (typeof TrainingSweepPhases)[number];

export const TrainingSweepReasons = {
  TrialsRunning: 'TrialsRunning',
  WaitingForModelVersions: 'WaitingForModelVersions',
  BestTrialSelected: 'BestTrialSelected',
  NoTrialSucceeded: 'NoTrialSucceeded',
  NoTrialPassedGate: 'NoTrialPassedGate',
  InvalidSpec: 'InvalidSpec',
} as const;
export type TrainingSweepReason = (typeof TrainingSweepReasons)[keyof typeof TrainingSweepReasons];

/** One trial's values of the searched parameters (those the search sets). */
export const TrialParameters = Type.Object(
  {
    architecture: Type.Optional(StringEnum(Architectures, { description: 'spec.architecture.' })),
    learningRate: Type.Optional(Type.Number({ description: 'hyperparameters.learningRate.' })),
    epochs: Type.Optional(Type.Integer({ description: 'hyperparameters.epochs.' })),
    batchSize: Type.Optional(Type.Integer({ description: 'hyperparameters.batchSize.' })),
    imageSize: Type.Optional(Type.Integer({ description: 'hyperparameters.imageSize.' })),
    horizontalFlip: Type.Optional(Type.Boolean({ description: 'hyperparameters.augmentation.horizontalFlip.' })),
    randomCrop: Type.Optional(Type.Boolean({ description: 'hyperparameters.augmentation.randomCrop.' })),
    brightness: Type.Optional(Type.Number({ description: 'hyperparameters.augmentation.brightness.' })),
  },
  { description: 'The values this trial tries.' },
);
export type TrialParameters = Static<typeof TrialParameters>;

export const SweepTrial = Type.Object(
  {
    trial: Type.Integer({ description: 'Trial number (0-based): its place in the grid, or its draw.', minimum: 0 }),
    trainingRun: Type.String({ description: 'The trial\'s TrainingRun (owned by the sweep).' }),
    parameters: TrialParameters,
    phase: Type.String({ description: 'The TrainingRun\'s phase (NotStarted before it is made; Stopping once early stopping asked it to stop, Stopped once it has).' }),
    modelVersion: Type.Optional(Type.String({ description: 'The ModelVersion the trial registered.' })),
    value: Type.Optional(Type.Number({ description: 'The objective metric of that ModelVersion.' })),
    gate: Type.Optional(
      StringEnum(['Passed', 'Rejected'] as const, { description: 'The evaluation gate\'s verdict on that ModelVersion (a trial is finished once it is decided).' }),
    ),
    rank: Type.Optional(Type.Integer({ description: '1 = best objective value, among the trials with a value (gate passed or not).', minimum: 1 })),
    best: Type.Optional(
      Type.Boolean({ description: 'The winner: the best-ranked trial whose ModelVersion passed its gate, the only one eligible for serving.' }),
    ),
    failure: Type.Optional(Type.String({ description: 'Why the trial failed (its TrainingRun\'s failure reason).' })),
    stopped: Type.Optional(
      Type.Object(
        {
          epoch: Type.Integer({ description: 'The epoch after which it was stopped.', minimum: 1 }),
          bestValAccuracy: Type.Number({ description: 'Its best validation accuracy up to that epoch.' }),
          median: Type.Number({ description: 'The median of the other trials\' mean validation accuracy up to that epoch.' }),
          trials: Type.Integer({ description: 'How many other trials the median was taken over.', minimum: 1 }),
        },
        { description: 'Why early stopping stopped this trial (phase Stopped).' },
      ),
    ),
  },
  { description: 'One row of the leaderboard.' },
);
export type SweepTrial = Static<typeof SweepTrial>;

export const TrainingSweepStatus = Type.Object(
  {
    phase: Type.Optional(StringEnum(TrainingSweepPhases, { description: 'Pending, Running, Succeeded or Failed.' })),
    observedGeneration: Type.Optional(Type.Integer({ description: 'metadata.generation this status describes.', minimum: 0 })),
    trials: Type.Optional(Type.Integer({ description: 'Trials the sweep runs in all.', minimum: 0 })),
    running: Type.Optional(Type.Integer({ description: 'Trials running now.', minimum: 0 })),
    succeeded: Type.Optional(Type.Integer({ description: 'Trials with a ModelVersion and a value.', minimum: 0 })),
    failed: Type.Optional(Type.Integer({ description: 'Trials whose TrainingRun failed (stopped ones are not counted).', minimum: 0 })),
    stopped: Type.Optional(Type.Integer({ description: 'Trials stopped early (by earlyStopping, or by hand with kennel.dev/stop).', minimum: 0 })),
    earlyStopping: Type.Optional(Type.String({ description: 'The early stopping applied, with its defaults, e.g. "Median (minEpochs 3, minTrials 3)".' })),
    summary: Type.Optional(Type.String({ description: 'Finished trials as "done/total", for kubectl get.' })),
    objective: Type.Optional(Type.String({ description: 'The objective applied, e.g. "accuracy (Maximize)".' })),
    best: Type.Optional(
      Type.Object(
        {
          trial: Type.Integer({ description: 'Trial number.', minimum: 0 }),
          trainingRun: Type.String({ description: 'Its TrainingRun.' }),
          modelVersion: Type.String({ description: 'Its ModelVersion, the one marked eligible for serving.' }),
          value: Type.Number({ description: 'Its objective value.' }),
        },
        { description: 'The winner, once every trial has finished: the best-ranked trial whose ModelVersion passed its evaluation gate.' },
      ),
    ),
    leaderboard: Type.Optional(Type.Array(SweepTrial, { description: 'Every trial, in trial order, with its parameters and objective value; the best marked.', maxItems: MAX_SWEEP_TRIALS })),
    failure: Type.Optional(
      Type.Object(
        {
          reason: Type.String({ description: 'CamelCase cause: NoTrialSucceeded or NoTrialPassedGate.' }),
          message: Type.String({ description: 'What went wrong, for a person.' }),
        },
        { description: 'Why the sweep failed (phase Failed only).' },
      ),
    ),
    startTime: Type.Optional(Type.String({ description: 'When the first trial was made (RFC 3339).', format: 'date-time' })),
    completionTime: Type.Optional(Type.String({ description: 'When the sweep succeeded or failed (RFC 3339).', format: 'date-time' })),
    conditions: Type.Optional(Conditions()),
  },
  { description: 'What the operator observed; written only by the operator.' },
);
export type TrainingSweepStatus = Static<typeof TrainingSweepStatus>;

export const TrainingSweep = Resource(TRAINING_SWEEP_KIND, TrainingSweepSpec, TrainingSweepStatus);
export type TrainingSweep = Static<typeof TrainingSweep>;
