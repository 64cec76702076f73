import { readdirSync, readFileSync } from 'node:fs';

/** A process as /proc shows it: its pid, parent, start time (ticks since boot) and command line. */
interface ProcInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly start: string;
  readonly cmdline: string;
}

function procInfo(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return undefined;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    return { pid, ppid: Number(fields[1]), start: fields[19] ?? '', cmdline };
  } catch {
    return undefined;
  }
}

function allProcesses(): ProcInfo[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map((e) => procInfo(Number(e)))
    .filter((p): p is ProcInfo => p !== undefined);
}

/**
 * Everything a process started, seen by sampling /proc: each sample adds every live descendant
 * of the roots (and of any process recorded before, so a child that was re-parented to init after
 * its parent died is still followed). A pid is identified with its start time, so a reused pid is
 * not mistaken for a survivor. Zombies count as gone.
 */
export class ProcessTree {
  private readonly seen = new Map<string, ProcInfo>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly roots: number[]) {}

  /** Also follow `pid` (e.g. a daemon whose parent has exited). */
  addRoot(pid: number): void {
    if (!this.roots.includes(pid)) this.roots.push(pid);
  }

  sample(): void {
    const procs = allProcesses();
    const followed = new Set([...this.roots, ...[...this.seen.values()].map((p) => p.pid)]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const p of procs) {
        if (followed.has(p.ppid) && !followed.has(p.pid)) {
          followed.add(p.pid);
          grew = true;
        }
      }
    }
    for (const p of procs) if (followed.has(p.pid) && !this.roots.includes(p.pid)) this.seen.set(`${p.pid}:${p.start}`, p);
  }

  /** Samples every `intervalMs` until stopSampling(). */
  startSampling(intervalMs = 200): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stopSampling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Every descendant recorded so far. */
  recorded(): ProcInfo[] {
    return [...this.seen.values()];
  }

  /** The recorded descendants still alive (same pid, same start time). */
  survivors(): ProcInfo[] {
    return this.recorded().filter((p) => procInfo(p.pid)?.start === p.start);
  }

  /** Waits up to `timeoutMs` for every recorded descendant to be gone; returns those left. */
  async survivorsAfter(timeoutMs: number): Promise<ProcInfo[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = this.survivors();
      if (left.length === 0 || Date.now() > deadline) return left;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** SIGKILLs the survivors (test clean-up after a failed assertion). */
  killSurvivors(): void {
    for (const p of this.survivors()) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
  }
}
