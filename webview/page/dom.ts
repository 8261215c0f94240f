/**
 * What every Runwise webview page builds its DOM with. Browser code only (no Node, no vscode); the
 * host side of the same pages is client/webviewPanel.ts.
 *
 * Text goes in with textContent and attributes with setAttribute: nothing here parses HTML, so
 * names and values from the user's data are shown, never run.
 */

/** The page's side of the VS Code webview API, typed by the messages the page posts. */
export interface VsCodeApi<PageMessage> {
  postMessage(message: PageMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** The element the page renders into: the shell's `#root` (webview/shared/webviewHtml.ts), or a new <main>. */
export function pageRoot(): HTMLElement {
  return document.getElementById('root') ?? document.body.appendChild(document.createElement('main'));
}

/** An element with text content and optional attributes; never innerHTML. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, attrs: Record<string, string> = {}): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

/** A definition list of name/value pairs (`dl.facts` in webview/page/base.css). */
export function factList(entries: readonly [string, string][]): HTMLDListElement {
  const dl = el('dl', undefined, { class: 'facts' });
  for (const [k, v] of entries) dl.append(el('dt', k), el('dd', v));
  return dl;
}

/**
 * Calls `handle` with each message the host sends (VS Code delivers them as `message` events on
 * window); anything that is not an object is dropped before it reaches `handle`.
 */
export function onHostMessage<HostMessage extends object>(handle: (message: HostMessage) => void): void {
  window.addEventListener('message', (event: MessageEvent) => {
    const msg = event.data as unknown;
    if (typeof msg !== 'object' || msg === null) return;
    handle(msg as HostMessage);
  });
}
