/** Child processes for system tests: the CLI's tracking server, and scripts run from TypeScript. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

export const repoRoot = path.resolve(__dirname, '..', '..');

/** Runs a TypeScript file of this repository in a new Node process (through tsx). */
export function spawnTs(file: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['--no-warnings', '--import', 'tsx', path.join(repoRoot, file), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface ServerProcess {
  child: ChildProcess;
  uri: string;
  token: string;
  stderr(): string;
}

/** `runwise serve --port 0 --json` in its own process; resolves once it prints its address. */
export async function startServeProcess(workspace: string, token = 'test-token-0123456789'): Promise<ServerProcess> {
  const child = spawnTs('core/cli/main.ts', ['serve', '--port', '0', '--json', '--workspace', workspace], { RUNWISE_TOKEN: token });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  let text = '';
  const uri = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`runwise serve exited (${code}) before it was ready: ${err}`)));
    lines.on('line', (line) => {
      text += line;
      try {
        resolve((JSON.parse(text) as { tracking_uri: string }).tracking_uri);
      } catch {
        /* the JSON spans several lines */
      }
    });
  });
  return { child, uri, token, stderr: () => err };
}

/** Resolves with the exit code (or signal) and collected output of a child. */
export function finished(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Whether process `pid` runs (a zombie waiting for whoever adopted it to reap it does not; Linux's /proc). */
export function processRunning(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
