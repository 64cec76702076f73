import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const Num = Type.Number();
const ClassRow = Type.Object({ precision: Num, recall: Num, f1: Num, support: Num });
const Epoch = Type.Object({ loss: Num, accuracy: Num, valLoss: Num, valAccuracy: Num });
const Bin = Type.Object({ from: Num, to: Num, count: Num, confidence: Num, accuracy: Num });

const parts = {
  perClass: Type.Record(Type.String(), ClassRow),
  confusionMatrix: Type.Array(Type.Array(Num)),
  confidenceHistogram: Type.Array(Num, { minItems: 10, maxItems: 10 }),
  history: Type.Array(Epoch, { minItems: 1 }),
  bestEpoch: Num,
  calibration: Type.Object({ expectedCalibrationError: Num, reliability: Type.Array(Bin) }),
} as const;

/**
 * The parts of an artifact's metrics.json the page draws, each checked on its own: a metrics.json
 * from an older Kennel, or written by hand for an imported model, shows what it has and omits
 * what it lacks instead of failing the page.
 */
export interface EvaluationView {
  readonly perClass?: Static<typeof parts.perClass>;
  readonly confusionMatrix?: readonly (readonly number[])[];
  readonly confidenceHistogram?: readonly number[];
  readonly history?: readonly Static<typeof Epoch>[];
  readonly bestEpoch?: number;
  readonly calibration?: Static<typeof parts.calibration>;
}

const checked = <T extends TSchema>(schema: T, value: unknown): Static<T> | undefined => (Value.Check(schema, value) ? value : undefined);

/** Reads the drawable parts of metrics.json (see EvaluationView); a confusion matrix must be classes × classes. */
export function evaluationView(evaluation: Readonly<Record<string, unknown>> | undefined, classes: readonly string[]): EvaluationView {
  if (!evaluation) return {};
  const training = (evaluation.training ?? {}) as Record<string, unknown>;
  const matrix = checked(parts.confusionMatrix, evaluation.confusionMatrix);
  const square = matrix && matrix.length === classes.length && matrix.every((row) => row.length === classes.length) ? matrix : undefined;
  const view: Record<string, unknown> = {
    perClass: checked(parts.perClass, evaluation.perClass),
    confusionMatrix: square,
    confidenceHistogram: checked(parts.confidenceHistogram, evaluation.confidenceHistogram),
    history: checked(parts.history, training.history),
    bestEpoch: checked(parts.bestEpoch, training.bestEpoch),
    calibration: checked(parts.calibration, evaluation.calibration),
  };
  return Object.fromEntries(Object.entries(view).filter(([, v]) => v !== undefined)) as EvaluationView;
}
