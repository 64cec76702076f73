import { appendFileSync } from 'node:fs';

/** One JSON line per event in the node agent's log: a static message and a data object. */
export type AgentLog = (message: string, data?: Record<string, unknown>) => void;

/** An AgentLog appending to `path` (`<state dir>/node-agent.log`). */
export function createAgentLog(path: string): AgentLog {
  return (message, data = {}) => {
    try {
      appendFileSync(path, `${JSON.stringify({ time: new Date().toISOString(), message, ...data })}\n`);
    } catch {
      // The state directory is gone (the test bed was stopped and removed): nobody reads this line.
    }
  };
}
