/**
 * The registry's rules for a registered model's name and an alias, as text (no imports): the
 * registry throws them (modelRegistry.ts), and the language server shows them at a pipeline's
 * `register:` step, before a run gets that far.
 */

/** MLflow's longest registered model name and alias. */
export const MAX_REGISTERED_MODEL_NAME_LENGTH = 256;
export const MAX_ALIAS_LENGTH = 255;

/** What is wrong with a registered model name (MLflow's `_validate_model_name`, plus no '/' and no control character), or undefined. */
export function modelNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'Registered model name cannot be empty.';
  if (name.length > MAX_REGISTERED_MODEL_NAME_LENGTH) {
    return `Registered model name '${name.slice(0, 40)}…' exceeds the maximum length of ${MAX_REGISTERED_MODEL_NAME_LENGTH} characters (got ${name.length}).`;
  }
  // A '/' would make `models:/a/b/1` ambiguous.
  if (name.includes('/') || /[\u0000-\u001f\u007f-\u009f]/.test(name)) {
    const shown = JSON.stringify(name).slice(1, -1).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    return `Invalid registered model name '${shown}': it may not contain '/' or control characters.`;
  }
  return undefined;
}

/** What is wrong with an alias (MLflow's `_validate_model_alias_name`), or undefined. */
export function aliasProblem(alias: string): string | undefined {
  if (alias === '') return 'Registered model alias name cannot be empty.';
  if (alias.length > MAX_ALIAS_LENGTH) return `Registered model alias name exceeds the maximum length of ${MAX_ALIAS_LENGTH} characters.`;
  if (!/^[\w-]+$/.test(alias)) return `Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`;
  if (alias.toLowerCase() === 'latest') return "'latest' alias name (case insensitive) is reserved.";
  if (/^v\d+$/i.test(alias)) return `Version alias name '${alias}' is reserved.`;
  return undefined;
}
