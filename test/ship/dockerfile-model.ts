import { DockerfileParser, type Instruction, type ModifiableInstruction } from 'dockerfile-ast';

/** One instruction, with its flags (`--from=build`) apart from its arguments. */
export type DockerInstruction = {
  keyword: string;
  args: string[];
  flags: Record<string, string | null>;
  /** The arguments as written after the flags, for RUN and JSON forms. */
  raw: string;
  line: number;
};

/** A build stage: FROM image (global ARGs expanded), optional name, its instructions. */
export type DockerStage = {
  name: string | undefined;
  image: string;
  instructions: DockerInstruction[];
};

export type DockerfileModel = {
  /** ARGs declared before the first FROM, with their default values. */
  globalArgs: Record<string, string>;
  stages: DockerStage[];
};

function expand(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, a?: string, b?: string) => {
    const name = a ?? b ?? '';
    return vars[name] ?? whole;
  });
}

function toInstruction(instruction: Instruction): DockerInstruction {
  const keyword = instruction.getKeyword().toUpperCase();
  const flags: Record<string, string | null> = {};
  const maybeFlags = (instruction as Partial<ModifiableInstruction>).getFlags;
  if (typeof maybeFlags === 'function') {
    for (const flag of maybeFlags.call(instruction)) flags[flag.getName()] = flag.getValue();
  }
  const args = instruction
    .getArguments()
    .map((a) => a.getValue())
    .filter((v) => !v.startsWith('--'));
  return {
    keyword,
    args,
    flags,
    raw: instruction.getArgumentsContent() ?? '',
    line: instruction.getRange().start.line + 1,
  };
}

/**
 * Parses a Dockerfile (with dockerfile-ast, the parser of the VS Code Docker extension) into
 * stages. Only global ARGs are expanded in FROM lines; nothing else is interpreted.
 */
export function parseDockerfile(content: string): DockerfileModel {
  const dockerfile = DockerfileParser.parse(content);
  const globalArgs: Record<string, string> = {};
  for (const arg of dockerfile.getInitialARGs()) {
    const property = arg.getProperty();
    if (property) globalArgs[property.getName()] = property.getValue() ?? '';
  }
  const stages: DockerStage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    const parsed = toInstruction(instruction);
    if (parsed.keyword === 'FROM') {
      const [image = '', as, name] = parsed.args;
      stages.push({
        image: expand(image, globalArgs),
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        instructions: [],
      });
      continue;
    }
    const current = stages.at(-1);
    if (current) current.instructions.push(parsed);
  }
  return { globalArgs, stages };
}

/** The JSON array of an exec-form instruction (ENTRYPOINT ["node", "x"]), or undefined. */
export function execForm(instruction: DockerInstruction): string[] | undefined {
  try {
    const value: unknown = JSON.parse(instruction.raw);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}
