/**
 * Keeps the Helm chart's CRDs (charts/kennel/crds/) byte-identical to the repository's crds/,
 * which are generated from the TypeBox schemas in src/shared/api/. Helm installs files in a
 * chart's crds/ folder before the templates and never deletes them on uninstall, which is what
 * we want for resources that hold a model registry.
 *
 *   tsx scripts/sync-chart-crds.ts           copy crds/*.yaml into the chart, drop stale copies
 *   tsx scripts/sync-chart-crds.ts --check   exit 1 and list the differences, change nothing
 */
import { copyFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type CrdDifference = { file: string; problem: 'missing-in-chart' | 'stale-in-chart' | 'content-differs' };

const isCrdFile = (name: string): boolean => name.endsWith('.yaml') || name.endsWith('.yml');

async function listCrdFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter(isCrdFile).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Paths of the two folders, from the repository root. */
export function crdFolders(repoRoot: string): { source: string; chart: string } {
  return { source: join(repoRoot, 'crds'), chart: join(repoRoot, 'charts', 'kennel', 'crds') };
}

/** Every way in which the chart's crds/ differs from the repository's crds/ (empty: in sync). */
export async function diffChartCrds(repoRoot: string): Promise<CrdDifference[]> {
  const { source, chart } = crdFolders(repoRoot);
  const [sourceFiles, chartFiles] = await Promise.all([listCrdFiles(source), listCrdFiles(chart)]);
  const differences: CrdDifference[] = [];
  for (const file of sourceFiles) {
    if (!chartFiles.includes(file)) {
      differences.push({ file, problem: 'missing-in-chart' });
      continue;
    }
    const [a, b] = await Promise.all([readFile(join(source, file)), readFile(join(chart, file))]);
    if (!a.equals(b)) differences.push({ file, problem: 'content-differs' });
  }
  for (const file of chartFiles) {
    if (!sourceFiles.includes(file)) differences.push({ file, problem: 'stale-in-chart' });
  }
  return differences;
}

/** Makes the chart's crds/ equal to crds/; returns what it changed. */
export async function syncChartCrds(repoRoot: string): Promise<CrdDifference[]> {
  const { source, chart } = crdFolders(repoRoot);
  const differences = await diffChartCrds(repoRoot);
  await mkdir(chart, { recursive: true });
  for (const { file, problem } of differences) {
    if (problem === 'stale-in-chart') await rm(join(chart, file));
    else await copyFile(join(source, file), join(chart, file));
  }
  return differences;
}

async function main(argv: readonly string[]): Promise<number> {
  const repoRoot = fileURLToPath(new URL('..', import.meta.url));
  const check = argv.includes('--check');
  const differences = check ? await diffChartCrds(repoRoot) : await syncChartCrds(repoRoot);
  for (const { file, problem } of differences) {
    process.stdout.write(`${check ? 'differs' : 'synced'}: ${file} (${problem})\n`);
  }
  if (check && differences.length > 0) {
    process.stderr.write('charts/kennel/crds/ is out of date: run `npm run chart:sync-crds`\n');
    return 1;
  }
  if (differences.length === 0) process.stdout.write('charts/kennel/crds/ matches crds/\n');
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
