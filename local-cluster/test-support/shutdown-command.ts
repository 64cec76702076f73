/**
 * A command for shutdown.test.ts, shaped like `npm run demo`: it owns its shutdown, starts
 * children the way the local cluster does, registers their stops, and waits for a signal.
 *
 *   shutdown-command.ts <dir> [--hang] [--no-owner]
 *
 * Starts `sleep` (stops on SIGTERM) and a shell that ignores SIGTERM (its stop ends in SIGKILL
 * after 1 s), both as managed processes, and (with an owner) a plain child with a pipe, adopted;
 * prints `ready <pid>...`. Each stop prints
 * `stopped <name>`. `--hang` adds a stop that never finishes (the owner's 2 s deadline ends it);
 * `--no-owner` takes no owner (as a test process: the exit hooks alone act on a signal).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startProcess } from '../managed-process.js';
import { ownShutdown } from '../shutdown.js';

const [dir, ...flags] = process.argv.slice(2);
if (!dir) throw new Error('usage: shutdown-command.ts <dir> [--hang] [--no-owner]');
const say = (line: string): void => void process.stdout.write(`${line}\n`);
const shutdown = flags.includes('--no-owner') ? undefined : ownShutdown({ say, graceMs: 2_000, beforeStops: (why) => say(`stopping (${why})`) });

const sleeper = startProcess({ name: 'sleeper', command: 'sleep', args: ['300'], logPath: join(dir, 'sleeper.log') });
shutdown?.add('sleeper', async () => {
  await sleeper.stop();
  say('stopped sleeper');
});
const stubborn = startProcess({ name: 'stubborn', command: 'sh', args: ['-c', 'trap "" TERM; while :; do sleep 1; done'], logPath: join(dir, 'stubborn.log') });
shutdown?.add('stubborn', async () => {
  await stubborn.stop(1_000);
  say('stopped stubborn');
});
// Only with an owner: nothing else would stop a plain child.
const plain = shutdown ? spawn('sleep', ['300'], { stdio: ['ignore', 'pipe', 'inherit'] }) : undefined;
if (plain) shutdown?.adopt('plain', plain);
if (flags.includes('--hang')) shutdown?.add('hanging', () => new Promise(() => undefined));

say(`ready ${[sleeper.pid, stubborn.pid, plain?.pid].filter(Boolean).join(' ')}`);
setInterval(() => undefined, 60_000);
