import Type from 'typebox';
import { MESSAGE_STATUSES, type EmailMessage } from '../../core/email/email.js';
import { getEmailTemplate, putEmailTemplate, resetEmailTemplate, type EffectiveTemplate } from '../../core/email/manage-templates.js';
import { listMessages, MAX_MESSAGE_PAGE } from '../../core/email/list-messages.js';
import { EmailTemplateSchema, TEMPLATE_VARIABLES } from '../../core/email/template-rendering.js';
import type { CoreDeps } from '../../core/ports.js';
import type { NativeScope } from './index.js';
import { ErrorResponses, TenantParams } from './schemas.js';
import { documentedBody } from '../shared/body-validation.js';

const tags = ['native'];
const Timestamp = Type.String({ format: 'date-time' });
// EMAIL_KINDS spelled out: a union mapped from a list of literals confuses the reply's type
// inference. A kind added to EMAIL_KINDS but not here fails the type check of the replies below.
const Kind = Type.Union([Type.Literal('welcome'), Type.Literal('invitation')]);

/** A message as tenant admins read it; the response schema is the list of fields that leave. */
export const EmailMessageSchema = Type.Object({
  id: Type.String(),
  userId: Type.Union([Type.String(), Type.Null()]),
  kind: Kind,
  from: Type.String(),
  to: Type.String(),
  subject: Type.String(),
  text: Type.String({ description: 'The plain-text part. An undelivered invitation contains its code; once sent, the stored copy no longer does.' }),
  html: Type.String(),
  messageId: Type.String({ description: 'The Message-ID header, the same on every attempt.' }),
  status: Type.Union(MESSAGE_STATUSES.map((s) => Type.Literal(s))),
  attempts: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  nextAttemptAt: Type.Union([Timestamp, Type.Null()]),
  createdAt: Timestamp,
  sentAt: Type.Union([Timestamp, Type.Null()]),
});

function presentMessage(m: EmailMessage) {
  return {
    id: m.id,
    userId: m.userId,
    kind: m.kind,
    from: m.from,
    to: m.to,
    subject: m.subject,
    text: m.text,
    html: m.html,
    messageId: m.messageId,
    status: m.status,
    attempts: m.attempts,
    lastError: m.lastError,
    nextAttemptAt: m.nextAttemptAt,
    createdAt: m.createdAt,
    sentAt: m.sentAt,
  };
}

const EffectiveTemplateSchema = Type.Object({
  kind: Kind,
  subject: Type.String(),
  text: Type.String(),
  html: Type.String(),
  custom: Type.Boolean({ description: "False while the tenant uses Muster's default." }),
  updatedAt: Type.Union([Timestamp, Type.Null()]),
  variables: Type.Array(Type.String(), { description: 'What a template may use, e.g. {{user.displayName}}.' }),
});

function presentTemplate(t: EffectiveTemplate) {
  return { kind: t.kind, subject: t.subject, text: t.text, html: t.html, custom: t.custom, updatedAt: t.updatedAt, variables: [...TEMPLATE_VARIABLES] };
}

const TemplateParams = Type.Object({ tenant: TenantParams.properties.tenant, kind: Kind });

export function emailRoutes(app: NativeScope, core: CoreDeps): void {
  app.get('/tenants/:tenant/messages', {
    schema: {
      tags,
      summary: "The tenant's outbox, newest first: what was or would have been sent (tenant admin)",
      description:
        'With SMTP_URL unset nothing is sent and every message stays here, pending. An undelivered invitation shows its code, so this is for tenant admins only and is never cached.',
      params: TenantParams,
      querystring: Type.Object({
        status: Type.Optional(Type.Union(MESSAGE_STATUSES.map((s) => Type.Literal(s)))),
        userId: Type.Optional(Type.String({ maxLength: 64 })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_MESSAGE_PAGE, default: 50 })),
        cursor: Type.Optional(Type.String({ maxLength: 64 })),
      }),
      response: { 200: Type.Object({ messages: Type.Array(EmailMessageSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...ErrorResponses },
    },
    handler: async (request, reply) => {
      const page = await listMessages(core, request.actor, request.params.tenant, request.query);
      return reply.header('cache-control', 'no-store').send({ messages: page.messages.map(presentMessage), nextCursor: page.nextCursor });
    },
  });

  app.get('/tenants/:tenant/email-templates/:kind', {
    schema: {
      tags,
      summary: 'The template in force for welcome or invitation emails (tenant admin)',
      params: TemplateParams,
      response: { 200: EffectiveTemplateSchema, ...ErrorResponses },
    },
    handler: async (request) => presentTemplate(await getEmailTemplate(core, request.actor, request.params.tenant, request.params.kind)),
  });

  app.put('/tenants/:tenant/email-templates/:kind', {
    schema: {
      tags,
      summary: "Set the tenant's own template (mustache; {{x}} escapes HTML in the html part)",
      params: TemplateParams,
      body: documentedBody(EmailTemplateSchema),
      response: { 200: EffectiveTemplateSchema, 201: EffectiveTemplateSchema, ...ErrorResponses },
    },
    handler: async (request, reply) => {
      const { template, created } = await putEmailTemplate(core, request.actor, request.params.tenant, request.params.kind, request.body);
      if (created) return reply.code(201).send(presentTemplate(template));
      return reply.code(200).send(presentTemplate(template));
    },
  });

  app.delete('/tenants/:tenant/email-templates/:kind', {
    schema: {
      tags,
      summary: "Go back to Muster's default template; answers the template now in force",
      params: TemplateParams,
      response: { 200: EffectiveTemplateSchema, ...ErrorResponses },
    },
    handler: async (request) => presentTemplate(await resetEmailTemplate(core, request.actor, request.params.tenant, request.params.kind)),
  });
}
