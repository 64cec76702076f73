/**
 * Every reason the server may put in `kennel_serve_errors_total{reason}`. A bounded list, so a
 * label never carries user input: anything else is counted as 'Other'.
 */
export const ERROR_REASONS = [
  'EmptyBody',
  'BodyTooLarge',
  'UnsupportedMediaType',
  'MalformedJson',
  'InvalidRequest',
  'MalformedBase64',
  'MalformedMultipart',
  'MissingFile',
  'TooManyFiles',
  'TooManyInstances',
  'ModelNotFound',
  'RouteNotFound',
  'MethodNotAllowed',
  'NotReady',
  'Overloaded',
  'InvalidPredictionId',
  'PredictionExpired',
  'FeedbackAlreadyRecorded',
  'FeedbackLogFull',
  'UnknownLabel',
  'ImageEmpty',
  'ImageUnsupported',
  'ImageCorrupt',
  'ImageTooManyPixels',
  'Internal',
  'Other',
] as const;
export type ErrorReason = (typeof ERROR_REASONS)[number];

const known = new Set<string>(ERROR_REASONS);

/** The reason itself when it is on the list, else 'Other'. */
export function boundedReason(reason: string): ErrorReason {
  return (known.has(reason) ? reason : 'Other') as ErrorReason;
}
