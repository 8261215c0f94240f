/**
 * A file → the AnalyzedDocument every feature reads: classified, parsed once. For a README.md model
 * card the YAML is its front matter and `yamlOffset` maps YAML offsets back into the Markdown.
 */
import { fileKindByName, isFrontMatterKind } from './files/fileKinds';
import { extractFrontMatter, unclosedFrontMatterLine } from './modelCard/frontMatter';
import type { AnalyzedDocument, FileKind } from './languageTypes';
import { parseYaml } from './yaml/parseYaml';
import type { YamlDocument } from './yaml/yamlTree';

export type ParseYaml = (text: string) => YamlDocument;

/**
 * Undefined when the file is not one Runwise analyses (pass `kind` when the caller knows better,
 * e.g. a params file named in a pipeline's `vars`).
 */
export function analyzeDocument(
  uri: string,
  relPath: string,
  text: string,
  parse: ParseYaml = parseYaml,
  kind: FileKind | undefined = fileKindByName(relPath, text),
): AnalyzedDocument | undefined {
  if (!kind) return undefined;
  if (isFrontMatterKind(kind)) {
    const fm = extractFrontMatter(text);
    if (!fm) {
      // Opened and never closed: an empty card at the opening `---`, which its diagnostics name.
      if (unclosedFrontMatterLine(text) === undefined) return undefined;
      return { uri, relPath, kind, yaml: parse(''), yamlOffset: text.indexOf('---'), unclosedFrontMatter: true };
    }
    return { uri, relPath, kind, yaml: parse(fm.yaml), yamlOffset: fm.offset, ...(text.charCodeAt(0) === 0xfeff ? { bom: true } : {}) };
  }
  return { uri, relPath, kind, yaml: parse(text), yamlOffset: 0 };
}
