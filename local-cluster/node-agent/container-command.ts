import type { V1Container } from '@kubernetes/client-node';

/** The images the node agent can run: the last path segment of the image's repository. */
export const kennelImages = ['kennel-operator', 'kennel-worker'] as const;
export type KennelImage = (typeof kennelImages)[number];

/**
 * `ghcr.io/kennel-dev/kennel-worker:0.1.0` → `kennel-worker`; undefined for any other image.
 * A registry port (`host:5000/...`), a tag and a digest are all allowed.
 */
export function kennelImageOf(image: string | undefined): KennelImage | undefined {
  if (!image) return undefined;
  const withoutDigest = image.split('@')[0] ?? '';
  const lastSegment = withoutDigest.split('/').pop() ?? '';
  const repo = lastSegment.split(':')[0];
  return kennelImages.find((k) => k === repo);
}

export type CliArgs = { ok: true; args: string[] } | { ok: false; message: string };

const entrypoint = ['node', '/app/dist/cli.js'] as const;

/**
 * The `kennel` CLI arguments a container runs, from its command and args. The images' ENTRYPOINT
 * is `node /app/dist/cli.js`, so no command means "args are CLI args"; commands `kennel ...` and
 * `node /app/dist/cli.js ...` are recognised too. Anything else cannot run on the test bed.
 * `$(VAR)` references are expanded from the container's environment as the kubelet does.
 */
export function cliArgsOf(container: V1Container, env: Readonly<Record<string, string>>): CliArgs {
  const expand = (s: string): string => expandVars(s, env);
  const args = (container.args ?? []).map(expand);
  const command = (container.command ?? []).map(expand);
  if (command.length === 0) return { ok: true, args };
  if (command[0] === 'kennel' || command[0] === '/usr/local/bin/kennel') return { ok: true, args: [...command.slice(1), ...args] };
  if (command[0] === entrypoint[0] && (command[1] === entrypoint[1] || command[1] === 'dist/cli.js')) {
    return { ok: true, args: [...command.slice(2), ...args] };
  }
  return {
    ok: false,
    message: `the test bed node agent runs only the kennel CLI (command ["kennel", ...], ["node", "/app/dist/cli.js", ...] or none), not ${JSON.stringify(command)}`,
  };
}

/** Kubernetes `$(VAR)` expansion: known variables are replaced, `$$` escapes, unknown ones stay. */
export function expandVars(input: string, env: Readonly<Record<string, string>>): string {
  return input.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) => {
    if (whole === '$$') return '$';
    return name !== undefined && name in env ? (env[name] ?? '') : whole;
  });
}
