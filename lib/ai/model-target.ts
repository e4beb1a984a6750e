import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { AliasDefaults, ModelTargetConfig } from '../../lambda/ai/config';
export type { AliasDefaults, ModelTargetConfig } from '../../lambda/ai/config';

/** Request settings an alias applies when a request leaves them out. */
export interface ModelDefaults {
  /**
   * Sampling temperature (0 to 2). An alias whose default is 0 makes requests that do not set
   * a temperature deterministic, and so cacheable.
   * @default - the provider's default
   */
  readonly temperature?: number;
  /**
   * Most tokens of an answer.
   * @default - the provider's default
   */
  readonly maxTokens?: number;
  /**
   * Nucleus sampling (0 to 1).
   * @default - the provider's default
   */
  readonly topP?: number;
}

/** Settings every kind of target shares. */
export interface ModelTargetOptions {
  /**
   * Request defaults of this alias.
   * @default - none
   */
  readonly defaults?: ModelDefaults;
  /**
   * Aliases tried in order when this one is throttled or fails with a 5xx or a timeout (before
   * anything has been streamed to the caller).
   * @default - no fallbacks
   */
  readonly fallbacks?: string[];
}

/** A Bedrock foundation model. */
export interface BedrockModelOptions extends ModelTargetOptions {
  /**
   * Region of the model.
   * @default - the stack's region
   */
  readonly region?: string;
}

/** An OpenAI-compatible upstream (OpenAI, vLLM, Ollama, LiteLLM …). */
export interface OpenAiCompatibleModelOptions extends ModelTargetOptions {
  /** HTTPS base URL of the API, e.g. `https://api.openai.com/v1`. */
  readonly baseUrl: string;
  /** Model name the upstream knows, e.g. `gpt-4o-mini`. */
  readonly model: string;
  /**
   * Secret holding the upstream's API key (the whole SecretString). A key is never accepted
   * as a literal: it would be readable in the template and the function's configuration.
   */
  readonly apiKey: secretsmanager.ISecret;
}

/** The built-in deterministic local model (offline runs, tests, benchmarks). */
export interface LocalModelOptions extends ModelTargetOptions {
  /**
   * Delay before the answer, to stand in for a real model's latency.
   * @default 0
   */
  readonly delayMs?: number;
}

/** What an alias of the model table points at. */
export class ModelTarget {
  /** A Bedrock model through the Converse API: IAM scoped to this model id, no secret. */
  static bedrock(modelId: string, options: BedrockModelOptions = {}): ModelTarget {
    if (!/^[A-Za-z0-9._:\-/]+$/.test(modelId)) throw new Error(`ModelTarget.bedrock: modelId must be a Bedrock model id such as "anthropic.claude-3-haiku-20240307-v1:0", got "${modelId}"`);
    return new ModelTarget('bedrock', modelId, options, options.region);
  }

  /** An OpenAI-compatible upstream over HTTPS, its key in Secrets Manager. Needs Internet egress. */
  static openAiCompatible(options: OpenAiCompatibleModelOptions): ModelTarget {
    if (!/^https:\/\/[^\s/]+/.test(options.baseUrl)) throw new Error(`ModelTarget.openAiCompatible: baseUrl must be an https:// URL, got "${options.baseUrl}"`);
    if (!options.model) throw new Error('ModelTarget.openAiCompatible: model is required');
    if (!options.apiKey) throw new Error('ModelTarget.openAiCompatible: apiKey (a Secrets Manager secret) is required');
    return new ModelTarget('openai', options.model, options, undefined, options.baseUrl, options.apiKey);
  }

  /** The deterministic local model (no provider, no cost): for tests and offline runs. */
  static local(options: LocalModelOptions = {}): ModelTarget {
    if (options.delayMs !== undefined && !(options.delayMs >= 0)) throw new Error('ModelTarget.local: delayMs must be >= 0');
    return new ModelTarget('local', 'echo', options, undefined, undefined, undefined, options.delayMs);
  }

  private constructor(
    readonly provider: 'bedrock' | 'openai' | 'local',
    readonly model: string,
    readonly options: ModelTargetOptions,
    readonly region?: string,
    readonly baseUrl?: string,
    readonly apiKey?: secretsmanager.ISecret,
    readonly delayMs?: number,
  ) {
    const d = options.defaults;
    if (d?.temperature !== undefined && !(d.temperature >= 0 && d.temperature <= 2)) throw new Error(`defaults.temperature must be 0 to 2, got ${d.temperature}`);
    if (d?.topP !== undefined && !(d.topP >= 0 && d.topP <= 1)) throw new Error(`defaults.topP must be 0 to 1, got ${d.topP}`);
    if (d?.maxTokens !== undefined && !(Number.isInteger(d.maxTokens) && d.maxTokens >= 1)) throw new Error(`defaults.maxTokens must be a positive integer, got ${d.maxTokens}`);
  }

  /** The alias entry the handler reads (AI_MODELS). */
  toConfig(): ModelTargetConfig {
    const d = this.options.defaults;
    const defaults: AliasDefaults | undefined = d ? { temperature: d.temperature, max_tokens: d.maxTokens, top_p: d.topP } : undefined;
    const common = { defaults, fallbacks: this.options.fallbacks };
    switch (this.provider) {
      case 'bedrock':
        return { provider: 'bedrock', model: this.model, region: this.region, ...common };
      case 'openai':
        return { provider: 'openai', model: this.model, baseUrl: this.baseUrl!, apiKeySecretArn: this.apiKey!.secretArn, ...common };
      case 'local':
        return { provider: 'local', model: this.model, delayMs: this.delayMs, ...common };
    }
  }
}

/** Checks an alias table: names, fallbacks that exist, no empty table. */
export function checkModelTable(prop: string, models: Record<string, ModelTarget>): void {
  const names = Object.keys(models ?? {});
  if (names.length === 0) throw new Error(`${prop} must declare at least one alias, e.g. { fast: ModelTarget.bedrock('anthropic.claude-3-haiku-20240307-v1:0') }`);
  for (const [alias, target] of Object.entries(models)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/.test(alias)) throw new Error(`${prop}: alias "${alias}" must be 1-64 letters, digits or "._:-"`);
    if (!(target instanceof ModelTarget)) throw new Error(`${prop}.${alias} must be a ModelTarget (ModelTarget.bedrock, .openAiCompatible or .local)`);
    for (const f of target.options.fallbacks ?? []) {
      if (!(f in models)) throw new Error(`${prop}.${alias}.fallbacks: unknown alias "${f}"; declared: ${names.join(', ')}`);
      if (f === alias) throw new Error(`${prop}.${alias}.fallbacks: an alias cannot fall back to itself`);
    }
  }
}
