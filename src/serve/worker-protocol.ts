import type { BackendPreference, SelectedBackend } from '../ml/backend/select.js';
import type { Transferring } from '../shared/thread-rpc/protocol.js';
import type { ModelPayload } from './model-transfer.js';
import type { PredictorStats } from './predictor.js';

/** Data a model worker thread starts with. */
export interface ModelWorkerInit {
  readonly payload: ModelPayload;
  readonly size: number;
  readonly numClasses: number;
  readonly backend: BackendPreference;
}

/** What a model worker reports once its model is loaded and warmed up. */
export interface ModelWorkerInfo {
  readonly backend: string;
  readonly kernels?: SelectedBackend['kernels'];
}

/** The calls a model worker answers (model-worker.ts). */
export interface ModelWorkerCalls {
  /** Softmax rows of `n` images (see Predictor.predict), moved back rather than copied. */
  predict(arg: { readonly pixels: Uint8Array; readonly n: number }): Promise<Transferring<Float32Array>>;
  stats(): Promise<PredictorStats>;
}
