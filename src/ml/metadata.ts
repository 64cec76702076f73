import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const SHA256 = Type.String({ pattern: '^[a-f0-9]{64}$' });
const PositiveInt = Type.Integer({ minimum: 1 });

/** How raw photos become model input: decode → RGB → square `size` by `resize` → value × `scale`. */
export const Preprocessing = Type.Object({
  resize: Type.Union([Type.Literal('cover'), Type.Literal('fill')]),
  size: PositiveInt,
  /** Multiplier from 0–255 bytes to model input (1/255: input in [0, 1]). */
  scale: Type.Number({ exclusiveMinimum: 0 }),
});
export type Preprocessing = Static<typeof Preprocessing>;

/**
 * metadata.json beside every model artifact: everything a server, an evaluator or a person
 * needs to use the model correctly and to trace where it came from. `sha256` is the digest of
 * the concatenated weight files, checked on every load.
 */
export const ModelMetadata = Type.Object({
  schemaVersion: Type.Literal(1),
  format: Type.Literal('tfjs-layers'),
  /** Class names in output order: softmax index i is classes[i]. */
  classes: Type.Array(Type.String({ minLength: 1 }), { minItems: 2 }),
  /** [height, width, channels] of one input image. */
  inputShape: Type.Tuple([PositiveInt, PositiveInt, Type.Literal(3)]),
  preprocessing: Preprocessing,
  dataset: Type.Object({ uri: Type.String(), digest: Type.String() }),
  hyperparameters: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()])),
  architecture: Type.String({ minLength: 1 }),
  /** Pretrained architectures: where the backbone's weights came from and where it was cut. */
  pretrained: Type.Optional(
    Type.Object({
      package: Type.String({ minLength: 1 }),
      version: Type.String({ minLength: 1 }),
      license: Type.String({ minLength: 1 }),
      /** The model inside the package. */
      model: Type.String({ minLength: 1 }),
      /** The layer whose pooled output feeds the head. */
      cut: Type.String({ minLength: 1 }),
      /** The layer up to which the backbone stayed frozen; the blocks after it were fine-tuned. */
      boundary: Type.String({ minLength: 1 }),
      trainableBlocks: Type.Array(Type.String()),
    }),
  ),
  /** Temperature scaling folded into the output layer: probabilities are softmax(logits / temperature). */
  calibration: Type.Optional(Type.Object({ temperature: Type.Number({ exclusiveMinimum: 0 }), fittedOn: Type.Literal('validation') })),
  backend: Type.String(),
  codeVersion: Type.String(),
  createdAt: Type.String(),
  sha256: SHA256,
  weightsBytes: Type.Integer({ minimum: 0 }),
});
export type ModelMetadata = Static<typeof ModelMetadata>;

/** What a caller supplies to saveArtifact: the digest and size are computed from the weights. */
export type ModelMetadataInput = Omit<ModelMetadata, 'sha256' | 'weightsBytes' | 'schemaVersion' | 'format'>;

export class InvalidMetadataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMetadataError';
  }
}

/** Validates parsed JSON as {@link ModelMetadata}; the error names the first offending fields. */
export function parseModelMetadata(json: unknown, source = 'metadata.json'): ModelMetadata {
  if (Value.Check(ModelMetadata, json)) return json;
  const problems = [...Value.Errors(ModelMetadata, json)].slice(0, 5).map((e) => `${e.path || '/'}: ${e.message}`);
  throw new InvalidMetadataError(`invalid ${source}: ${problems.join('; ')}`);
}
