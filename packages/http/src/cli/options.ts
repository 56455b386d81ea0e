/** The CLI's option handling: flags with environment fallbacks, keys, and the one-line CliError. */
import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** A failure the user can fix: printed as one line, exit code 1 (2 for usage errors). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** One string option: its flag, and the environment variables read when the flag is absent (first set wins). */
export interface OptionSpec {
  env: readonly string[];
  /** The flag may be given several times; the values are joined with newlines. */
  multiple?: boolean;
  /** A switch without a value (`--json`): its value is 'true' when given; the variable must be 'true' or '1'. */
  boolean?: boolean;
}

/** A resolved option: its value and where it came from (`--port`, or `TESSERA_PORT`), for messages. */
export interface OptionValue {
  value: string;
  source: string;
}

/**
 * Parses `args` (strict: unknown flags and positionals are usage errors) and resolves each option
 * from its flag, else from its environment variables. An empty variable counts as unset.
 */
export function parseOptions<K extends string>(
  args: string[],
  specs: Record<K, OptionSpec>,
  env: NodeJS.ProcessEnv = process.env,
): { help: boolean; options: Partial<Record<K, OptionValue>> } {
  const flags: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(specs) as [string, OptionSpec][]) {
    flags[name] = spec.boolean ? { type: 'boolean' } : spec.multiple ? { type: 'string', multiple: true } : { type: 'string' };
  }
  const { values } = parseArgs({ args, options: { ...flags, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
  const options: Partial<Record<K, OptionValue>> = {};
  for (const [name, spec] of Object.entries(specs) as [K, OptionSpec][]) {
    const flag = (values as Record<string, unknown>)[name];
    if (flag === true) {
      options[name] = { value: 'true', source: `--${name}` };
      continue;
    }
    if (typeof flag === 'string') {
      options[name] = { value: flag, source: `--${name}` };
      continue;
    }
    if (Array.isArray(flag) && flag.length > 0) {
      options[name] = { value: flag.join('\n'), source: `--${name}` };
      continue;
    }
    for (const variable of spec.env) {
      const v = env[variable];
      if (v !== undefined && v !== '') {
        if (spec.boolean && v !== 'true' && v !== '1') {
          if (v === 'false' || v === '0') break;
          throw new CliError(`${variable}: must be true, 1, false or 0 (got "${v}")`, 2);
        }
        options[name] = { value: spec.boolean ? 'true' : v, source: variable };
        break;
      }
    }
  }
  return { help: values.help === true, options };
}

/** An integer option within [min, max], or `fallback` when absent. */
export function integerOption(option: OptionValue | undefined, fallback: number, min: number, max: number): number {
  if (option === undefined) return fallback;
  const { value, source } = option;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new CliError(`${source}: must be an integer from ${min} to ${max} (got "${value}")`, 2);
  return Number(value);
}

/** Flags that would put a key on the command line (visible in `ps`, shell history, CI logs). */
export const KEY_FLAG = /^--?(?:(?:api|access|auth|full[-_]?access|read[-_]?only)[-_]?)?(?:keys?|tokens?|secrets?)(?:=|$)/i;

function keysFromEnv(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
}

function readKeysFile({ value: path, source }: OptionValue): { fullAccess: string[]; readOnly: string[]; metrics: string[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`${source}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${source}: ${path} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new CliError(`${source}: ${path} must hold an object { "fullAccess": [...], "readOnly": [...] }`);
  }
  const obj = data as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (key !== 'fullAccess' && key !== 'readOnly') throw new CliError(`${source}: unknown field "${key}" in ${path}; allowed: fullAccess, readOnly`);
  }
  const list = (field: 'fullAccess' | 'readOnly' | 'metrics'): string[] => {
    const v = obj[field] ?? [];
    if (!Array.isArray(v) || v.some((k) => typeof k !== 'string')) throw new CliError(`${source}: "${field}" in ${path} must be an array of strings`);
    return v as string[];
  };
  if (process.platform !== 'win32') {
    const mode = statSync(path).mode;
    if (mode & 0o077) process.stderr.write(`tessera: warning: ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); chmod 600 it\n`);
  }
  return { fullAccess: list('fullAccess'), readOnly: list('readOnly'), metrics: list('metrics') };
}

/**
 * The API keys from TESSERA_FULL_ACCESS_KEYS / TESSERA_READ_ONLY_KEYS / TESSERA_METRICS_KEYS and
 * the keys file, if any. Metrics keys open /metrics only (a scraper needs no other access).
 */
export function collectKeys(keysFile: OptionValue | undefined, env: NodeJS.ProcessEnv = process.env): { fullAccessKeys: string[]; readOnlyKeys: string[]; metricsKeys: string[] } {
  const fullAccessKeys = keysFromEnv(env.TESSERA_FULL_ACCESS_KEYS);
  const readOnlyKeys = keysFromEnv(env.TESSERA_READ_ONLY_KEYS);
  const metricsKeys = keysFromEnv(env.TESSERA_METRICS_KEYS);
  if (keysFile) {
    const file = readKeysFile(keysFile);
    fullAccessKeys.push(...file.fullAccess);
    readOnlyKeys.push(...file.readOnly);
    metricsKeys.push(...file.metrics);
  }
  return { fullAccessKeys, readOnlyKeys, metricsKeys };
}
