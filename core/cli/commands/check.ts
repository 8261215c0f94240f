/**
 * `runwise check [FILES|DIR]... [--json]`: the language server's diagnostics, for the terminal and
 * CI. Walks the given files and folders (default: the workspace) for the files the analysis
 * understands (pipelines, params files, model cards), skipping node_modules, .git, .runwise and
 * dist; prints `file:line:col: severity code message` with workspace-relative paths and 1-based
 * positions, or a JSON array with --json. Exit 1 when any error was found (warnings do not fail).
 *
 * Without `--workspace`, a file or folder outside the current folder is checked within its own
 * workspace (the nearest folder above it with `.runwise/`, `.git/`, `.dvc/`, `dvc.yaml` or
 * `runwise.yaml`), and its path is printed relative to the current folder.
 *
 * The pipeline files of a workspace are checked as one graph (workspacePipelines.ts): a dependency
 * another pipeline file writes is not missing, and an output declared in two files or a cycle
 * through several files is reported in each file taking part.
 */
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ParsedArgs } from '../args';
import { CliError, type CommandContext } from '../context';
import { createLanguageService, type LanguageService } from '../../language/languageService';
import type { AnalysisDiagnostic, FileKind, Severity } from '../../language/languageTypes';
import { markdownCardKind } from '../../language/files/fileKinds';
import { computeLineStarts, positionAt } from '../../language/text/lineIndex';
import { FileSystemWorkspace } from '../../language/files/fileSystemWorkspace';
import { WorkspacePipelines } from '../../language/pipeline/workspacePipelines';
import { relativeInside } from '../../workspace/workspacePath';
import { commandLinePath, findWorkspaceRoot, pathExists } from '../../workspace/workspaceRoot';

const SKIPPED_DIRS = new Set(['node_modules', '.git', '.runwise', 'dist']);
/** Extensions of files that may be pipelines, params files or model cards. */
const CANDIDATE = /\.(ya?ml|json|md)$/i;

/** One finding as --json prints it; lines and columns are 1-based, the end exclusive. */
export interface CheckFinding {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: Severity;
  code: string;
  message: string;
}

/** Candidate files under a directory (relative paths), skipping tool and dependency folders. */
function walk(workspace: string, dirRel: string, out: string[]): void {
  const abs = path.join(workspace, ...dirRel.split('/').filter(Boolean));
  let entries;
  try {
    entries = readdirSync(abs, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const rel = dirRel ? `${dirRel}/${e.name}` : e.name;
    // Symbolic links are not followed: they may lead out of the workspace or round in a circle.
    if (e.isDirectory()) {
      if (!SKIPPED_DIRS.has(e.name)) walk(workspace, rel, out);
    } else if (e.isFile() && CANDIDATE.test(e.name)) out.push(rel);
  }
}

/** The files to check under `workspace`, from the given inputs (files or folders; relative to the current folder). */
function targets(workspace: string, inputs: readonly string[]): { files: string[]; explicit: Set<string> } {
  const files: string[] = [];
  const explicit = new Set<string>();
  for (const input of inputs) {
    // A relative path is taken from the current folder, or else from the workspace.
    const abs = commandLinePath(workspace, input);
    const rel = relativeInside(workspace, abs);
    if (rel === undefined) throw new CliError(`'${input}' is outside the workspace (${workspace})`);
    let st;
    try {
      st = statSync(abs);
    } catch {
      throw new CliError(`'${input}' does not exist`);
    }
    if (st.isDirectory()) walk(workspace, rel, files);
    else {
      files.push(rel);
      explicit.add(rel);
    }
  }
  return { files: [...new Set(files)], explicit };
}

/**
 * The inputs by the workspace each is checked in: the named or current workspace, or, without
 * `--workspace`, the nearest workspace root of an input that lies outside the current folder.
 */
function workspacesOf(ctx: CommandContext, inputs: readonly string[]): Map<string, string[]> {
  const current = path.resolve(ctx.workspace);
  const groups = new Map<string, string[]>();
  const add = (ws: string, input: string) => groups.set(ws, [...(groups.get(ws) ?? []), input]);
  if (inputs.length === 0) return new Map([[current, [current]]]);
  for (const input of inputs) {
    const abs = path.resolve(input);
    const outside = relativeInside(current, abs) === undefined;
    add(!ctx.workspaceGiven && outside ? (findWorkspaceRoot(abs) ?? (pathExists(abs) && statSync(abs).isDirectory() ? abs : path.dirname(abs))) : current, input);
  }
  return groups;
}

function findingsOf(service: LanguageService, workspace: string, relPath: string, text: string, kind?: FileKind): CheckFinding[] | undefined {
  const doc = service.analyze(pathToFileURL(path.join(workspace, ...relPath.split('/'))).href, relPath, text, kind);
  if (!doc) return undefined;
  const diagnostics: AnalysisDiagnostic[] = service.diagnostics(doc);
  // File offsets: for a README.md these are already offsets in the Markdown.
  const lines = { lineStarts: doc.yamlOffset === 0 && doc.yaml.text.length === text.length ? doc.yaml.lineStarts : computeLineStarts(text) };
  const clamp = (o: number) => Math.max(0, Math.min(text.length, o));
  return diagnostics.map((d) => {
    const start = positionAt(lines, clamp(d.start));
    const end = positionAt(lines, Math.max(clamp(d.start), clamp(d.end)));
    return {
      file: relPath,
      line: start.line + 1,
      column: start.character + 1,
      endLine: end.line + 1,
      endColumn: end.character + 1,
      severity: d.severity,
      code: d.code,
      message: d.message,
    };
  });
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, information: 2, hint: 3 };

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * `asCard`: the files named are model cards (`runwise card validate`): a Markdown file is analysed
 * by its front matter whatever its name, and one that cannot be analysed is an error, not skipped.
 */
export function check(ctx: CommandContext, args: ParsedArgs, options: { asCard?: boolean } = {}): void {
  const current = path.resolve(ctx.workspace);
  const findings: CheckFinding[] = [];
  let checked = 0;
  /** Files named on the command line that are none Runwise checks: an error, so that a CI step naming a misnamed pipeline does not pass. */
  let skipped = 0;
  for (const [workspace, inputs] of workspacesOf(ctx, args.positionals)) {
    const view = new FileSystemWorkspace(workspace);
    // Every pipeline file of the workspace is one graph: outputs another file writes, outputs
    // declared twice and cycles across files are reported too, whichever files are checked.
    const service = createLanguageService(view, { pipelines: new WorkspacePipelines(view) });
    const { files, explicit } = targets(workspace, inputs);
    // Paths are said relative to the workspace checked, or to the current one when that is another.
    const shown = (rel: string) => (workspace === current ? rel : path.relative(current, path.join(workspace, ...rel.split('/'))).split(path.sep).join('/'));
    for (const relPath of files) {
      const isMarkdown = /\.md$/i.test(relPath);
      const asCard = options.asCard === true && explicit.has(relPath);
      const given = asCard && isMarkdown ? view.readFile(relPath) : undefined;
      // A Markdown file is a card by its front matter (README.md, or one with a model-index or that a pipeline registers as a card).
      const kind = given !== undefined ? markdownCardKind(given) : service.fileKind(relPath, isMarkdown ? view.readFile(relPath) : undefined);
      if (!kind) {
        if (asCard) throw new CliError(`${shown(relPath)}: not a model card Runwise can read (a Markdown file with YAML front matter, *.modelcard.yaml or model_card.json)`);
        if (explicit.has(relPath)) {
          ctx.io.err(`runwise: skipped ${shown(relPath)}: not a pipeline, params file or model card\n`);
          skipped++;
        }
        continue;
      }
      const text = view.readFile(relPath);
      if (text === undefined) {
        if (asCard) throw new CliError(`${shown(relPath)} cannot be read (or is over 16 MiB)`);
        continue;
      }
      const found = findingsOf(service, workspace, relPath, text, given !== undefined ? kind : undefined);
      if (!found) {
        if (explicit.has(relPath)) {
          ctx.io.err(`runwise: skipped ${shown(relPath)}: not a pipeline, params file or model card\n`);
          skipped++;
        }
        continue;
      }
      checked++;
      found.sort((a, b) => a.line - b.line || a.column - b.column || SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
      findings.push(...found.map((f) => ({ ...f, file: shown(f.file) })));
    }
  }

  if (ctx.json) ctx.printJson(findings);
  else for (const f of findings) ctx.io.out(`${f.file}:${f.line}:${f.column}: ${f.severity} ${f.code} ${f.message.replace(/\s*\n\s*/g, ' ')}\n`);

  const count = (s: Severity) => findings.filter((f) => f.severity === s).length;
  const errors = count('error');
  const others = findings.length - errors - count('warning');
  const summary = `${plural(checked, 'file')} checked: ${plural(errors, 'error')}, ${plural(count('warning'), 'warning')}${others ? `, ${plural(others, 'note')}` : ''}`;
  // Exit 1 on errors: the CLI reports a CliError as its one stderr line, so the summary is that line.
  if (errors > 0 || skipped > 0) throw new CliError(skipped > 0 ? `${summary}; ${plural(skipped, 'file')} named could not be checked` : summary);
  ctx.io.err(`runwise: ${summary}\n`);
}
