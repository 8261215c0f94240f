/**
 * The host side every Runwise webview panel shares: the panel with scripts on, command URIs off and
 * only dist/webview/ readable; the page served in the shared HTML shell with a fresh nonce and the
 * Content-Security-Policy (webview/shared/webviewHtml.ts); and the pages' messages checked against
 * their type guard before a panel acts on them. The page side is webview/page/dom.ts.
 */
import * as vscode from 'vscode';
import { createNonce, webviewHtml } from '../webview/shared/webviewHtml';

export interface RunwiseWebviewPanelOptions {
  extensionUri: vscode.Uri;
  viewType: string;
  /** The tab's title until the panel names what it shows. */
  title: string;
  /** The page's bundle: it loads dist/webview/<bundle>.js and dist/webview/<bundle>.css. */
  bundle: string;
  /** The page's document title. */
  documentTitle: string;
}

/** Opens a webview panel beside the active editor (focus stays where it is), serving the page. */
export function createRunwiseWebviewPanel(options: RunwiseWebviewPanelOptions): vscode.WebviewPanel {
  const assets = vscode.Uri.joinPath(options.extensionUri, 'dist', 'webview');
  const panel = vscode.window.createWebviewPanel(
    options.viewType,
    options.title,
    { viewColumn: vscode.ViewColumn.Active, preserveFocus: true },
    { enableScripts: true, enableCommandUris: false, localResourceRoots: [assets] },
  );
  panel.iconPath = vscode.Uri.joinPath(options.extensionUri, 'media', 'runwise.svg');
  const webview = panel.webview;
  const asset = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(assets, name)).toString();
  webview.html = webviewHtml({
    nonce: createNonce(),
    cspSource: webview.cspSource,
    scriptUri: asset(`${options.bundle}.js`),
    styleUris: [asset(`${options.bundle}.css`)],
    title: options.documentTitle,
  });
  return panel;
}

/**
 * Hands `handle` each message the page posts that `isPageMessage` accepts; any other message is
 * logged (as `<label>: ignored …`) and dropped, since a page only posts the messages it types.
 */
export function receivePageMessages<PageMessage>(
  webview: vscode.Webview,
  isPageMessage: (m: unknown) => m is PageMessage,
  handle: (m: PageMessage) => Promise<void>,
  log: vscode.LogOutputChannel,
  label: string,
): vscode.Disposable {
  return webview.onDidReceiveMessage((m: unknown) => {
    if (!isPageMessage(m)) {
      log.warn(`${label}: ignored an unexpected message from the page: ${JSON.stringify(m)?.slice(0, 200)}`);
      return;
    }
    void handle(m);
  });
}

/** Where a panel class shown one at a time keeps its open panel. */
export interface PanelSlot<P> {
  current: P | undefined;
}

/**
 * A panel shown one at a time and reused: showing a new subject puts it in the open panel
 * (revealed, focus kept where it is) instead of opening another. showReusedPanel puts a new panel
 * in its slot; the panel frees the slot, its listeners and the webview when it closes. Subclasses
 * send the page what they show (`update`) and act on its messages.
 */
export abstract class ReusedWebviewPanel<Subject, HostMessage> implements vscode.Disposable {
  protected readonly disposables: vscode.Disposable[] = [];

  protected constructor(
    private readonly slot: PanelSlot<ReusedWebviewPanel<Subject, HostMessage>>,
    readonly panel: vscode.WebviewPanel,
    protected subject: Subject,
  ) {
    this.disposables.push(panel.onDidDispose(() => this.dispose()));
  }

  /** Shows `subject` in this panel. */
  showSubject(subject: Subject): void {
    this.subject = subject;
    this.panel.reveal(undefined, true);
    void this.update();
  }

  /** Sends the page what the panel shows (or why there is nothing to show). */
  abstract update(): void | Promise<void>;

  protected post(message: HostMessage): void {
    void this.panel.webview.postMessage(message);
  }

  dispose(): void {
    if (this.slot.current === this) this.slot.current = undefined;
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}

/** The open panel of `slot` showing `subject`, or a new one from `open` when none is open. */
export function showReusedPanel<Subject, P extends ReusedWebviewPanel<Subject, unknown>>(slot: PanelSlot<P>, subject: Subject, open: () => P): P {
  const current = slot.current;
  if (current) {
    current.showSubject(subject);
    return current;
  }
  // Taken only once the panel is built: a constructor that throws leaves the slot empty.
  slot.current = open();
  return slot.current;
}
