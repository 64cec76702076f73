import type { BackendPreference } from '../ml/backend/select.js';
import type { ModelPayload } from './model-transfer.js';

/** Data a model worker thread starts with. */
export interface WorkerInit {
  readonly payload: ModelPayload;
  readonly size: number;
  readonly numClasses: number;
  readonly backend: BackendPreference;
}

export type ToWorker =
  | { readonly type: 'predict'; readonly id: number; readonly pixels: Uint8Array; readonly n: number }
  | { readonly type: 'stats'; readonly id: number };

export type FromWorker =
  | { readonly type: 'ready'; readonly backend: string }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly probabilities: Float32Array }
  | { readonly type: 'stats'; readonly id: number; readonly numTensors: number; readonly numBytes: number; readonly backend: string }
  | { readonly type: 'error'; readonly id: number; readonly message: string };
