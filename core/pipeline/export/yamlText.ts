/** Plain data as YAML for the exported files: block style, no line folding, keys in the given order. */

/** The `yaml` package, loaded on use (the CLI bundles it separately). */
const yamlPackage = () => require('yaml') as typeof import('yaml');

export function yamlText(value: unknown): string {
  return yamlPackage().stringify(value, { lineWidth: 0, indentSeq: false, aliasDuplicateObjects: false });
}
