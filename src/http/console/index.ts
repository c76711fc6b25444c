/**
 * Muster Console: the browser admin console, served from this server at /console/ (same
 * origin as the API it calls, nothing from another host). `npm run build` writes it to
 * dist/console; until then /console/ answers a short page that says so.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `npm run build:console` writes the console (the same place from src/ and from dist/). */
export const CONSOLE_DIR = fileURLToPath(new URL('../../../dist/console/', import.meta.url));

/**
 * Everything the console loads comes from this origin: no inline script or style, no eval, no
 * frames. No host is named and no `upgrade-insecure-requests`, so it works on any address a
 * deployment uses, plain HTTP included.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Muster Console is not built</title></head>
<body><main><h1>Muster Console is not built</h1>
<p>Build it with <code>npm run build</code> (or <code>npm run build:console</code>) and reload this page. The API is unaffected: see <a href="/docs">/docs</a>.</p></main></body></html>
`;

export interface ConsoleOptions {
  /** The built console; CONSOLE_DIR by default. */
  dir?: string;
}

/** Registers GET /console and GET /console/*; assets are cached for good (their names carry a hash), the page never. */
export async function consoleRoutes(app: FastifyInstance, options: ConsoleOptions = {}): Promise<void> {
  const dir = options.dir ?? CONSOLE_DIR;
  await app.register(async (scope) => {
    await scope.register(fastifyStatic, { root: dir, serve: false, decorateReply: true });
    scope.addHook('onSend', async (_request, reply) => {
      reply.header('content-security-policy', CONSOLE_CSP);
      reply.header('x-frame-options', 'DENY');
      reply.header('referrer-policy', 'no-referrer');
    });

    const page = (reply: FastifyReply) => {
      reply.header('cache-control', 'no-store');
      if (!existsSync(join(dir, 'index.html'))) return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
      return reply.sendFile('index.html', dir, { cacheControl: false });
    };

    scope.get('/console', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/', 302));
    scope.get('/console/*', { schema: { hide: true } }, async (request, reply) => {
      const rest = (request.params as { '*': string })['*'];
      // Hashed build output: served as files, forever cacheable. Anything else is a page of the
      // console's own router, which the one HTML page renders.
      if (/^assets\/[\w.-]+$/.test(rest) && existsSync(join(dir, rest))) {
        return reply.sendFile(rest, dir, { maxAge: '365d', immutable: true });
      }
      if (/^[\w.-]+\.(svg|png|ico|txt|webmanifest)$/.test(rest) && existsSync(join(dir, rest))) {
        return reply.sendFile(rest, dir, { maxAge: '1h' });
      }
      return page(reply);
    });
  });
}
