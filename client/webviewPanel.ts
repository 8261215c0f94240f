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
