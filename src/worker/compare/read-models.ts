import { readFile } from 'node:fs/promises';
import { TerminalError, errorMessage } from '../../shared/errors.js';
import { isStorageError, joinUri, type Storage } from '../../shared/storage/index.js';
import { parseModelMetadata, type ModelMetadata } from '../../ml/metadata.js';
import { modelFromArtifact, parseMetricsFile, type ComparedModel, type MetricsFileView } from './compared-model.js';
import { modelFromModelVersion, parseKubeObjects, type ArtifactFiles, type KubeObjects, type ModelVersionObject } from './from-model-version.js';

export type StorageOf = (uri: string) => Storage;

/** Column names for artifact URIs: the last path segment, or more of the path where those collide. */
export function labelsFor(uris: readonly string[]): string[] {
  const parts = uris.map((u) => u.replace(/\/+$/, '').split('/').filter(Boolean));
  for (let depth = 1; depth <= 4; depth++) {
    const labels = parts.map((p) => p.slice(-depth).join('/'));
    if (new Set(labels).size === labels.length) return labels;
  }
  return uris.map((u, i) => `#${i + 1} ${parts[i]?.at(-1) ?? u}`);
}

async function readJson(storage: Storage, uri: string): Promise<unknown> {
  const text = (await storage.read(uri)).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new TerminalError('InvalidArguments', `${uri} is not JSON: ${errorMessage(err)}`, { cause: err });
  }
}

async function readMetadata(storage: Storage, uri: string): Promise<ModelMetadata> {
  const file = joinUri(uri, 'metadata.json');
  const json = await readJson(storage, file).catch((err: unknown) => {
    if (isStorageError(err, 'NotFound')) throw new TerminalError('InvalidArguments', `no model artifact at ${uri} (metadata.json not found)`, { cause: err });
    throw err;
  });
  try {
    return parseModelMetadata(json, file);
  } catch (err) {
    throw new TerminalError('InvalidArguments', errorMessage(err), { cause: err });
  }
}

async function readMetrics(storage: Storage, uri: string): Promise<MetricsFileView> {
  const file = joinUri(uri, 'metrics.json');
  const json = await readJson(storage, file).catch((err: unknown) => {
    if (isStorageError(err, 'NotFound')) {
      throw new TerminalError('InvalidArguments', `${uri} has no metrics.json: compare needs the test-split evaluation that kennel train writes beside the model`, { cause: err });
    }
    throw err;
  });
  try {
    return parseMetricsFile(json, file);
  } catch (err) {
    throw new TerminalError('InvalidArguments', errorMessage(err), { cause: err });
  }
}

/** Reads each artifact's metadata.json and metrics.json (through src/shared/storage) as compared models, in order. */
export async function readArtifactModels(uris: readonly string[], storageOf: StorageOf): Promise<ComparedModel[]> {
  const labels = labelsFor(uris);
  return Promise.all(
    uris.map(async (uri, i) => {
      const storage = storageOf(uri);
      // metadata.json first: its absence means "no artifact here", which says more than a missing metrics.json.
      const metadata = await readMetadata(storage, uri);
      const metrics = await readMetrics(storage, uri);
      return modelFromArtifact(uri, labels[i] ?? uri, metadata, metrics);
    }),
  );
}

/** Best effort: a ModelVersion's artifact files, or why they could not be read (no credentials, deleted). */
async function readArtifactFiles(uri: string, storageOf: StorageOf): Promise<ArtifactFiles> {
  try {
    const storage = storageOf(uri);
    const metadata = await readMetadata(storage, uri);
    const metrics = await readMetrics(storage, uri).catch(() => undefined);
    return { metadata, ...(metrics ? { metrics } : {}) };
  } catch (err) {
    return { problem: isStorageError(err) ? `${err.reason}: ${err.message}` : errorMessage(err) };
  }
}

/** Reads `kubectl get -o json` output from files (`-` is stdin), every object of every file. */
export async function readKubeObjects(files: readonly string[], stdin: NodeJS.ReadableStream = process.stdin): Promise<KubeObjects> {
  const modelVersions: ModelVersionObject[] = [];
  const trainingRuns: KubeObjects['trainingRuns'][number][] = [];
  for (const file of files) {
    const text = file === '-' ? await readAll(stdin) : await readFile(file, 'utf8').catch((err: unknown) => {
      throw new TerminalError('InvalidArguments', `cannot read --model-versions ${file}: ${errorMessage(err)}`, { cause: err });
    });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new TerminalError('InvalidArguments', `--model-versions ${file} is not JSON (expected kubectl get modelversions.kennel.dev -o json): ${errorMessage(err)}`, { cause: err });
    }
    const parsed = (() => {
      try {
        return parseKubeObjects(json, file === '-' ? 'stdin' : file);
      } catch (err) {
        throw new TerminalError('InvalidArguments', errorMessage(err), { cause: err });
      }
    })();
    modelVersions.push(...parsed.modelVersions);
    trainingRuns.push(...parsed.trainingRuns);
  }
  return { modelVersions, trainingRuns };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The ModelVersions to compare, in the order of `names` (every one, in file order, when no
 * names are given), each with its artifact's files where readable and its TrainingRun.
 */
export async function modelVersionModels(objects: KubeObjects, names: readonly string[], storageOf: StorageOf): Promise<ComparedModel[]> {
  const picked = names.length === 0
    ? objects.modelVersions
    : names.map((name) => {
        const mv = objects.modelVersions.find((m) => m.metadata.name === name);
        if (!mv) throw new TerminalError('InvalidArguments', `ModelVersion ${name} is not in the --model-versions input (found: ${objects.modelVersions.map((m) => m.metadata.name).join(', ') || 'none'})`);
        return mv;
      });
  return Promise.all(
    picked.map(async (mv) => {
      const run = objects.trainingRuns.find((r) => r.metadata.name === mv.spec.lineage.trainingRun);
      return modelFromModelVersion(mv, await readArtifactFiles(mv.spec.artifact.uri, storageOf), run);
    }),
  );
}
