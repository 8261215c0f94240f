/**
 * A small LSP client over a child process's stdio: Content-Length framed JSON-RPC, requests with
 * ids and promises, notifications, and answers to the server's own requests. Used by the protocol
 * tests and the language-server benchmark; it knows nothing about any particular server.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ResponseErrorJson {
  code: number;
  message: string;
  data?: unknown;
}

export class LspResponseError extends Error {
  constructor(
    readonly method: string,
    readonly error: ResponseErrorJson,
  ) {
    super(`${method} failed: ${error.code} ${error.message}`);
    this.name = 'LspResponseError';
  }
}

export interface Notification {
  method: string;
  params: unknown;
  /** performance.now() when the message was read. */
  at: number;
}

type Waiter = { method: string; match: (params: unknown) => boolean; resolve: (n: Notification) => void };

export interface PendingRequest<T> {
  id: number;
  result: Promise<T>;
}

export interface LspClientOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Answers to requests the server sends (workspace/configuration, client/registerCapability...). */
  onServerRequest?: (method: string, params: unknown) => unknown;
}

export class LspClient {
  readonly child: ChildProcess;
  /** Every notification received, in order. */
  readonly notifications: Notification[] = [];
  /** Requests the server sent to the client, in order. */
  readonly serverRequests: { method: string; params: unknown }[] = [];
  private stderrText = '';
  private buffer: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, { method: string; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private waiters: Waiter[] = [];
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(command: string, args: string[], private readonly options: LspClientOptions = {}) {
    this.child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...(options.env ?? {}) }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => this.onData(d));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderrText += d.toString()));
    this.child.stdin!.on('error', () => {
      /* the server went away; pending requests are rejected on exit */
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        for (const p of this.pending.values()) p.reject(new Error(`server exited (${code ?? signal}) before answering ${p.method}`));
        this.pending.clear();
        resolve({ code, signal });
      }),
    );
  }

  stderr(): string {
    return this.stderrText;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a request; the id is known at once so it can be cancelled. */
  send<T = unknown>(method: string, params?: unknown): PendingRequest<T> {
    const id = this.nextId++;
    const result = new Promise<T>((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject });
    });
    this.write({ jsonrpc: '2.0', id, method, params });
    return { id, result };
  }

  request<T = unknown>(method: string, params?: unknown): Promise<T> {
    return this.send<T>(method, params).result;
  }

  notify(method: string, params?: unknown): void {
    this.write({ jsonrpc: '2.0', method, params });
  }

  cancel(id: number): void {
    this.notify('$/cancelRequest', { id });
  }

  /**
   * The next notification of `method` (read after this call) whose params satisfy `match`.
   * Rejects after `timeoutMs`, or when the server exits first.
   */
  waitFor<P = unknown>(method: string, match: (params: P) => boolean = () => true, timeoutMs = 10_000): Promise<Notification & { params: P }> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        method,
        match: match as (p: unknown) => boolean,
        resolve: (n) => {
          clearTimeout(timer);
          resolve(n as Notification & { params: P });
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const last = this.notifications
          .slice(-3)
          .map((n) => `${n.method}${(n.params as { version?: number } | null)?.version !== undefined ? ` (version ${(n.params as { version: number }).version})` : ''}`);
        reject(new Error(`no ${method} within ${timeoutMs} ms (last notifications: ${last.join(', ') || 'none'}); server stderr:\n${this.stderrText.slice(-2000)}`));
      }, timeoutMs);
      this.waiters.push(waiter);
      void this.exited.then(() => {
        if (this.waiters.includes(waiter)) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new Error(`server exited while waiting for ${method}; stderr:\n${this.stderrText.slice(-2000)}`));
        }
      });
    });
  }

  /** `shutdown` then `exit`; resolves with how the process ended. */
  async shutdown(timeoutMs = 5000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) {
      try {
        await this.request('shutdown');
      } catch {
        /* already gone */
      }
      this.notify('exit');
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const r = await this.exited;
    clearTimeout(timer);
    return r;
  }

  exit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  private write(message: unknown): void {
    if (!this.alive || !this.child.stdin!.writable) return;
    const body = Buffer.from(JSON.stringify(message), 'utf8');
    this.child.stdin!.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]));
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd === -1) return;
      const header = this.buffer.subarray(0, headerEnd).toString('ascii');
      const m = /Content-Length:\s*(\d+)/i.exec(header);
      if (!m) throw new Error(`bad LSP header from the server: ${JSON.stringify(header)}`);
      const length = Number(m[1]);
      const start = headerEnd + 4;
      if (this.buffer.length < start + length) return;
      const body = this.buffer.subarray(start, start + length).toString('utf8');
      this.buffer = this.buffer.subarray(start + length);
      this.dispatch(JSON.parse(body) as Record<string, unknown>, performance.now());
    }
  }

  private dispatch(msg: Record<string, unknown>, at: number): void {
    const method = msg.method as string | undefined;
    if (method !== undefined && msg.id !== undefined) {
      this.serverRequests.push({ method, params: msg.params });
      let result: unknown = null;
      try {
        result = this.options.onServerRequest?.(method, msg.params) ?? null;
      } catch {
        result = null;
      }
      this.write({ jsonrpc: '2.0', id: msg.id, result });
      return;
    }
    if (method !== undefined) {
      const n: Notification = { method, params: msg.params, at };
      this.notifications.push(n);
      const hit = this.waiters.find((w) => w.method === method && w.match(n.params));
      if (hit) {
        this.waiters = this.waiters.filter((w) => w !== hit);
        hit.resolve(n);
      }
      return;
    }
    const p = this.pending.get(msg.id as number);
    if (!p) return;
    this.pending.delete(msg.id as number);
    if (msg.error) p.reject(new LspResponseError(p.method, msg.error as ResponseErrorJson));
    else p.resolve(msg.result);
  }
}
