import { spawn, type ChildProcess } from 'node:child_process';

export interface CommandRun {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Its stdout and stderr so far, interleaved as they came. */
  output(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a TypeScript command of the repository (`node --import tsx <script> ...args`) as a person would, capturing its output. */
export function runCommand(script: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): CommandRun {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, pid: child.pid ?? -1, output: () => out, exited };
}
