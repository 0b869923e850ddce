import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The stream overlays (README, "Add Ovation to OBS"): one page per kind, one script and stylesheet for all. */
export const OVERLAY_KINDS = ['alerts', 'goal', 'top-gifters', 'viewers'] as const;
export const OVERLAY_PATH = '/overlay/';

/**
 * The pages hold an overlay token (in the fragment), so they run only their own script and talk only to
 * this server. Styles may be inline: OBS applies a source's Custom CSS as a <style> element.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' https: data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
};

const page = (kind: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>Ovation ${kind} overlay</title>
<link rel="stylesheet" href="overlay.css">
<script src="overlay.js" defer></script>
</head>
<body data-overlay="${kind}"><div id="ovation" class="ovation" data-state="connecting"></div></body>
</html>
`;

/**
 * Where `npm run build` put the script and stylesheet (scripts/build-overlay.ts): dist/overlay, found
 * from the compiled server (dist/src/edge) and from the sources (src/edge) alike.
 */
const ASSET_DIRS = ['../../overlay', '../../dist/overlay'].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));

const ASSETS: Record<string, string> = { 'overlay.js': 'text/javascript; charset=utf-8', 'overlay.css': 'text/css; charset=utf-8' };

/** Whether a request is for the overlays (GET or HEAD under /overlay/). */
export const isOverlayRequest = (req: http.IncomingMessage) => (req.method === 'GET' || req.method === 'HEAD') && req.url?.startsWith(OVERLAY_PATH) === true;

/** Serves an overlay page or asset. The query string (the overlay's settings) is the page's business. */
export function serveOverlay(req: http.IncomingMessage, res: http.ServerResponse): void {
  const name = new URL(req.url!, 'http://overlay').pathname.slice(OVERLAY_PATH.length);
  if ((OVERLAY_KINDS as readonly string[]).includes(name)) {
    res.writeHead(200, { ...HEADERS, 'content-type': 'text/html; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : page(name));
    return;
  }
  const type = ASSETS[name];
  const file = type && ASSET_DIRS.map((dir) => path.join(dir, name)).find((candidate) => fs.existsSync(candidate));
  if (!type || !file) {
    const missing = type ? 'The overlay script is not built: run npm run build.' : `No such overlay. Overlays: ${OVERLAY_KINDS.join(', ')}.`;
    res.writeHead(type ? 503 : 404, { ...HEADERS, 'content-type': 'text/plain; charset=utf-8' }).end(missing);
    return;
  }
  res.writeHead(200, { ...HEADERS, 'content-type': type });
  if (req.method === 'HEAD') res.end();
  else fs.createReadStream(file).on('error', () => res.destroy()).pipe(res);
}
