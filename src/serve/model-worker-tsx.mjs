// Bootstrap for running the model worker from TypeScript sources (tests, `tsx src/cli.ts`):
// worker threads do not inherit tsx's loader, so register it here, then load the real entry.
// The built server (dist/) starts model-worker.js directly and never uses this file.
import { register } from 'tsx/esm/api';

register();
await import('./model-worker.ts');
