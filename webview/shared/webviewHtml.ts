/**
 * The HTML shell every Runwise webview is served in, with its Content-Security-Policy. Shared by the
 * extension (which fills in `webview.cspSource` and `asWebviewUri` URIs) and the webview test harness
 * (which serves the same page from a loopback server). Pure string code: no DOM, no vscode, no Node.
 *
 * The policy: nothing loads unless listed; scripts only with this page's nonce (so no inline
 * handlers, no injected <script>, no eval); styles from the extension's resources or with the nonce;
 * images from the extension's resources or data: URIs; fonts from the extension's resources.
 */

export interface WebviewHtmlOptions {
  /** A fresh nonce per render (createNonce()). */
  nonce: string;
  /** `webview.cspSource` in the extension (`'self' https://*.vscode-cdn.net`); the harness's origin in tests. */
  cspSource: string;
  /** The webview bundle (a classic script, e.g. esbuild's iife output). */
  scriptUri: string;
  /** Stylesheets, in order. */
  styleUris?: readonly string[];
  /** The document title (text, escaped here). */
  title: string;
}

const NONCE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 32 random alphanumeric characters from the platform's CSPRNG (Web Crypto, also in Node 20). */
export function createNonce(): string {
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  let out = '';
  // 248 = 4 * 62: dropping bytes >= 248 keeps every character equally likely.
  for (;;) {
    for (const b of bytes) {
      if (b < 248) out += NONCE_CHARS[b % 62];
      if (out.length === 32) return out;
    }
    globalThis.crypto.getRandomValues(bytes);
  }
}

/** The Content-Security-Policy for a webview page. */
export function contentSecurityPolicy(nonce: string, cspSource: string): string {
  assertNonce(nonce);
  assertCspSource(cspSource);
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
  ].join('; ');
}

/** The full HTML document for a webview. */
export function webviewHtml(options: WebviewHtmlOptions): string {
  const { nonce, cspSource, scriptUri, styleUris = [], title } = options;
  const csp = contentSecurityPolicy(nonce, cspSource);
  const styles = styleUris.map((href) => `    <link rel="stylesheet" href="${escapeHtml(href)}">`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles ? `${styles}\n` : ''}    <title>${escapeHtml(title)}</title>
  </head>
  <body>
    <div id="root"></div>
    <script nonce="${nonce}" src="${escapeHtml(scriptUri)}"></script>
  </body>
</html>
`;
}

/** Escapes text for an HTML text node or a double-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c]};`);
}

function assertNonce(nonce: string): void {
  // CSP's nonce-source is base64-value; anything else would break out of the policy.
  if (!/^[A-Za-z0-9+/_-]{16,}={0,2}$/.test(nonce)) throw new Error(`not a usable CSP nonce: ${JSON.stringify(nonce)}`);
}

function assertCspSource(cspSource: string): void {
  // VS Code's is "'self' https://*.vscode-cdn.net": host or scheme sources and 'self', nothing that
  // would end the directive (; ,) or loosen it ('unsafe-inline', 'unsafe-eval', other keywords).
  const tokens = cspSource.trim().split(/\s+/);
  const ok = cspSource.trim() !== '' && tokens.every((t) => t === "'self'" || /^[^'";,]+$/.test(t));
  if (!ok) throw new Error(`not a usable CSP source: ${JSON.stringify(cspSource)}`);
}
