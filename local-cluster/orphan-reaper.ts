import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The last line of defence against leftovers: exit hooks cannot run when the test process is
 * SIGKILLed (a CI timeout, an OOM kill). A tiny detached shell watches this process; when it is
 * gone, it SIGKILLs every process group still registered here and runs the registered shell
 * clean-up commands (deleting network namespaces and the bridge). Normal shutdowns unregister
 * everything first, so the watcher then finds nothing to do.
 */
interface ReaperState {
  groupsFile: string;
  commandsFile: string;
}

let state: ReaperState | undefined;
const groups = new Set<number>();
const commands = new Map<string, string>();

const script = `
P=$1; G=$2; C=$3; D=$4
while kill -0 "$P" 2>/dev/null; do sleep 1; done
for g in $(cat "$G" 2>/dev/null); do kill -9 "-$g" 2>/dev/null; done
sh "$C" >/dev/null 2>&1
rm -rf "$D"
`;

function ensure(): ReaperState {
  if (state) return state;
  const dir = mkdtempSync(join(tmpdir(), 'kennel-reaper-'));
  const s: ReaperState = { groupsFile: join(dir, 'groups'), commandsFile: join(dir, 'commands.sh') };
  writeFileSync(s.groupsFile, '');
  writeFileSync(s.commandsFile, '');
  const child = spawn('sh', ['-c', script, 'kennel-reaper', String(process.pid), s.groupsFile, s.commandsFile, dir], {
    detached: true,
    stdio: 'ignore',
  });
  child.on('error', () => undefined);
  child.unref();
  state = s;
  return s;
}

function flush(): void {
  const s = ensure();
  writeFileSync(s.groupsFile, [...groups].join('\n'));
  writeFileSync(s.commandsFile, [...commands.values()].join('\n'));
}

/** Registers a process group to kill if this process dies; returns the unregister function. */
export function reapGroupOnDeath(pgid: number): () => void {
  groups.add(pgid);
  flush();
  return () => {
    if (groups.delete(pgid)) flush();
  };
}

/** Registers a shell command to run if this process dies; returns the unregister function. */
export function reapCommandOnDeath(id: string, command: string): () => void {
  commands.set(id, command);
  flush();
  return () => {
    if (commands.delete(id)) flush();
  };
}
