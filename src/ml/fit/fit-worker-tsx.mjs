// Bootstrap for running the training worker from TypeScript sources (tests, tsx): worker threads
// do not inherit tsx's loader, so register it here, then load the real entry. Built code (dist/)
// starts fit-worker.js directly and never uses this file.
import { register } from 'tsx/esm/api';

register();
await import('./fit-worker.ts');
