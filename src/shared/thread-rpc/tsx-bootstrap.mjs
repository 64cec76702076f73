// Bootstrap of a thread started from TypeScript sources (tests, `tsx src/cli.ts`): worker threads
// do not inherit tsx's loader, so register it here, then load the thread's module. Built code
// (dist/) starts the thread's .js module directly and never uses this file.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
