import type { ModelTargetConfig } from '../config';
import type { Provider } from './types';

/**
 * The provider of a target, loaded on first use: a function serving only an OpenAI-compatible
 * upstream never loads the Bedrock client, and the reverse.
 */
export function providerFor(target: ModelTargetConfig): Provider {
  switch (target.provider) {
    case 'bedrock':
      return (require('./bedrock') as typeof import('./bedrock')).bedrock;
    case 'openai':
      return (require('./openai-compatible') as typeof import('./openai-compatible')).openAiCompatible;
    case 'local':
      return (require('./local') as typeof import('./local')).localModel;
  }
}
