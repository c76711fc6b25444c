import Fastify from 'fastify';
import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { createValidatorCompiler, documentedBody } from '../src/http/shared/body-validation.js';

const Body = Type.Object({ email: Type.String({ format: 'email' }) }, { additionalProperties: false });

function appWith(body: unknown) {
  const app = Fastify();
  app.setValidatorCompiler(createValidatorCompiler());
  app.post('/things', {
    schema: { querystring: Type.Object({ n: Type.Optional(Type.Integer()) }), body: body as object },
    handler: async (request) => ({ received: request.body, n: (request.query as { n?: number }).n ?? null }),
  });
  return app;
}

describe('the one rule for request bodies', () => {
  it('refuses to start a route whose body schema is not declared as documented', async () => {
    const app = appWith(Body);
    await expect(app.ready()).rejects.toThrow(/POST \/things: declare the body schema with documentedBody/);
  });

  it('hands a documented body to the handler as sent, for the core to check', async () => {
    const app = appWith(documentedBody(Body));
    const response = await app.inject({ method: 'POST', url: '/things', payload: { email: 5, extra: true } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ received: { email: 5, extra: true }, n: null });
    await app.close();
  });

  it('still checks the query string against its schema', async () => {
    const app = appWith(documentedBody(Body));
    const ok = await app.inject({ method: 'POST', url: '/things?n=3', payload: {} });
    expect(ok.json()).toEqual({ received: {}, n: 3 });
    const bad = await app.inject({ method: 'POST', url: '/things?n=three', payload: {} });
    expect(bad.statusCode).toBe(400);
    await app.close();
  });
});
