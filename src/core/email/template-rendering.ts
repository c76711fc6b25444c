/**
 * Email templates: mustache (logic-less; `{{x}}` is HTML-escaped). The subject and the text
 * part are rendered without escaping, the HTML part with it, and an HTML template may not
 * use the unescaped forms (`{{{x}}}`, `{{& x}}`), so that no user field reaches the HTML raw.
 */
import Mustache from 'mustache';
import Type from 'typebox';
import { fieldError, type FieldError } from '../errors.js';
import { compileValidator } from '../validation.js';
import type { EmailKind, EmailTemplate } from './email.js';

export const EmailTemplateSchema = Type.Object(
  {
    subject: Type.String({ minLength: 1, maxLength: 500, description: 'Mustache template of the subject (rendered on one line).' }),
    text: Type.String({ minLength: 1, maxLength: 100_000, description: 'Mustache template of the plain-text part.' }),
    html: Type.String({
      minLength: 1,
      maxLength: 200_000,
      description: 'Mustache template of the HTML part; `{{x}}` is HTML-escaped and the unescaped forms are refused.',
    }),
  },
  { additionalProperties: false },
);
const validateShape = compileValidator(EmailTemplateSchema);

/** The variables a template may use. */
export interface TemplateView {
  user: {
    id: string;
    number: number;
    userName: string;
    email: string;
    givenName: string;
    familyName: string;
    /** The formatted name, else the user name. */
    displayName: string;
    phoneNumber: string;
  };
  tenant: { id: string; name: string };
  /** Present in invitations only. */
  invitation?: {
    token: string;
    /** The endpoint that redeems the token: POST {token, password}. */
    acceptUrl: string;
    expiresAt: string;
    validHours: number;
  };
}

export const TEMPLATE_VARIABLES = [
  'user.id',
  'user.number',
  'user.userName',
  'user.email',
  'user.givenName',
  'user.familyName',
  'user.displayName',
  'user.phoneNumber',
  'tenant.id',
  'tenant.name',
  'invitation.token',
  'invitation.acceptUrl',
  'invitation.expiresAt',
  'invitation.validHours',
] as const;

export const DEFAULT_TEMPLATES: Record<EmailKind, EmailTemplate> = {
  welcome: {
    subject: 'Welcome to {{tenant.name}}',
    text: [
      'Hello {{user.displayName}},',
      '',
      'an account has been created for you at {{tenant.name}}.',
      'Your user name is {{user.userName}}; sign in with the password you were given.',
      '',
      '{{tenant.name}}',
      '',
    ].join('\n'),
    html: [
      '<!doctype html>',
      '<html><body>',
      '<p>Hello {{user.displayName}},</p>',
      '<p>an account has been created for you at {{tenant.name}}.<br>',
      'Your user name is <strong>{{user.userName}}</strong>; sign in with the password you were given.</p>',
      '<p>{{tenant.name}}</p>',
      '</body></html>',
      '',
    ].join('\n'),
  },
  invitation: {
    subject: 'You are invited to {{tenant.name}}',
    text: [
      'Hello {{user.displayName}},',
      '',
      'an account has been created for you at {{tenant.name}} (user name: {{user.userName}}).',
      'Choose your password to start using it. Your invitation code is:',
      '',
      '    {{invitation.token}}',
      '',
      'Send it with the password you choose to {{invitation.acceptUrl}}',
      'as JSON: {"token": "<the code>", "password": "<your password>"}.',
      '',
      'The code works once, until {{invitation.expiresAt}} ({{invitation.validHours}} hours).',
      'If you did not expect this message, ignore it.',
      '',
      '{{tenant.name}}',
      '',
    ].join('\n'),
    html: [
      '<!doctype html>',
      '<html><body>',
      '<p>Hello {{user.displayName}},</p>',
      '<p>an account has been created for you at {{tenant.name}} (user name: <strong>{{user.userName}}</strong>).',
      'Choose your password to start using it. Your invitation code is:</p>',
      '<p><code>{{invitation.token}}</code></p>',
      '<p>Send it with the password you choose to <code>{{invitation.acceptUrl}}</code>',
      'as JSON: <code>{"token": "&lt;the code&gt;", "password": "&lt;your password&gt;"}</code>.</p>',
      '<p>The code works once, until {{invitation.expiresAt}} ({{invitation.validHours}} hours).',
      'If you did not expect this message, ignore it.</p>',
      '<p>{{tenant.name}}</p>',
      '</body></html>',
      '',
    ].join('\n'),
  },
};

/** Its own parse cache, so that tenants' templates never mix with another user of mustache. */
const writer = new Mustache.Writer();

/**
 * A value as a message shows it. Variables name leaves (strings and numbers); a name that
 * reaches an object (`{{tenant}}`) shows nothing rather than failing: the view's objects have
 * no prototype, so `String()` of one would throw while the user's create is being written.
 */
function shown(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}
const noEscape = shown;
const escapeHtml = (value: unknown) => Mustache.escape(shown(value));

type Token = [type: string, value: string, start: number, end: number, children?: unknown];

/**
 * The deepest nesting of sections (`{{#x}}…{{/x}}`, `{{^x}}…{{/x}}`) a template may have.
 * Rendering recurses once per level; the default templates use none, and a view of a user,
 * a tenant and an invitation has nothing deeper than two levels to walk into.
 */
export const MAX_TEMPLATE_DEPTH = 16;

interface TemplateShape {
  partial: boolean;
  unescaped: boolean;
  depth: number;
  /** Variables used outside any section that are not in TEMPLATE_VARIABLES. */
  unknown: string[];
}

const KNOWN_VARIABLES: ReadonlySet<string> = new Set(TEMPLATE_VARIABLES);

/**
 * What a parsed template uses, walked with its own stack so that no nesting can overflow the
 * call stack. Only sections carry children (an array); a partial's fifth slot is its indentation.
 */
function shapeOf(tokens: Token[]): TemplateShape {
  const shape: TemplateShape = { partial: false, unescaped: false, depth: 0, unknown: [] };
  const stack: [Token[], number][] = [[tokens, 0]];
  while (stack.length > 0) {
    const [list, depth] = stack.pop()!;
    shape.depth = Math.max(shape.depth, depth);
    for (const [type, value, , , children] of list) {
      if (type === '>') shape.partial = true;
      else if (type === '&' || type === '{') shape.unescaped = true;
      // Inside a section a name may be relative to it; outside, it must be one of the variables.
      if (depth === 0 && (type === 'name' || type === '&' || type === '{') && !KNOWN_VARIABLES.has(value)) shape.unknown.push(value);
      if (Array.isArray(children)) stack.push([children as Token[], depth + 1]);
    }
  }
  return shape;
}

/** Checks a template a tenant admin submits; returns the problems (empty when it is usable). */
export function checkTemplate(input: unknown): { ok: true; template: EmailTemplate } | { ok: false; errors: FieldError[] } {
  const shaped = validateShape(input);
  if (!shaped.ok) return shaped;
  const template = shaped.value;
  const errors: FieldError[] = [];
  for (const part of ['subject', 'text', 'html'] as const) {
    let tokens: Token[];
    try {
      tokens = writer.parse(template[part]) as Token[];
    } catch (error) {
      errors.push(fieldError(part, 'INVALID_FIELD', `${part} is not a valid mustache template: ${(error as Error).message}`));
      continue;
    }
    const shape = shapeOf(tokens);
    if (shape.partial) errors.push(fieldError(part, 'INVALID_FIELD', `${part} may not use partials ({{> name}}).`));
    if (shape.depth > MAX_TEMPLATE_DEPTH) errors.push(fieldError(part, 'INVALID_FIELD', `${part} may not nest sections more than ${MAX_TEMPLATE_DEPTH} deep.`));
    if (shape.unknown.length > 0) {
      const names = [...new Set(shape.unknown)].slice(0, 5).map((n) => `{{${n}}}`).join(', ');
      errors.push(fieldError(part, 'INVALID_FIELD', `${part} uses ${names}, which is not a template variable; use one of: ${TEMPLATE_VARIABLES.join(', ')}.`));
    }
    if (part === 'html' && shape.unescaped) {
      errors.push(fieldError(part, 'INVALID_FIELD', 'html may not use unescaped variables ({{{x}}} or {{& x}}); use {{x}}, which escapes HTML.'));
    }
  }
  if (errors.length === 0) {
    // The last word: it renders, with the view shaped as at send time (objects without a prototype).
    try {
      renderTemplate(template, SAMPLE_VIEW);
    } catch (error) {
      errors.push(fieldError('html', 'INVALID_FIELD', `The template cannot be rendered: ${(error as Error).message}`));
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, template };
}

/** Copies plain data into objects without a prototype, so a template can reach nothing but the data. */
export function withoutPrototype<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  const copy = Object.create(null) as Record<string, unknown>;
  for (const [key, inner] of Object.entries(value)) copy[key] = withoutPrototype(inner);
  return copy as T;
}

const SAMPLE_VIEW: TemplateView = withoutPrototype({
  user: { id: 'sample', number: 1, userName: 'sample', email: 'sample@example.com', givenName: 'S', familyName: 'Ample', displayName: 'S Ample', phoneNumber: '' },
  tenant: { id: 'sample', name: 'Sample' },
  invitation: { token: 'sample', acceptUrl: 'https://example.com/accept', expiresAt: '2030-01-01T00:00:00.000Z', validHours: 72 },
});

/** A subject is one header line: control characters and line breaks become spaces. */
function oneLine(value: string): string {
  return value.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').replace(/\s+/g, ' ').trim().slice(0, 998);
}

/**
 * One part of a template, ready to render many times, for a template made only of text and
 * variables of the catalogue (as the defaults are): its pieces concatenated with each
 * variable's value looked up directly, which is what mustache renders for such a template,
 * without walking a context per variable. Undefined for anything else (sections, comments,
 * unescaped forms, names outside the catalogue, changed delimiters), which mustache renders.
 */
function compilePart(source: string, escape: (value: unknown) => string): ((view: TemplateView) => string) | undefined {
  let tokens: Token[];
  try {
    tokens = writer.parse(source) as Token[];
  } catch {
    return undefined;
  }
  const pieces: (string | [string, string])[] = [];
  for (const [type, value] of tokens) {
    if (type === 'text') pieces.push(value);
    else if (type === 'name' && KNOWN_VARIABLES.has(value)) pieces.push(value.split('.') as [string, string]);
    else return undefined;
  }
  return (view) => {
    let out = '';
    for (const piece of pieces) {
      if (typeof piece === 'string') out += piece;
      else {
        // Every catalogue variable is a leaf two levels down; a missing one (no invitation) shows nothing.
        const value = (view as unknown as Record<string, Record<string, unknown> | undefined>)[piece[0]]?.[piece[1]];
        if (value != null) out += escape(value);
      }
    }
    return out;
  };
}

/**
 * A template ready to render many messages: the same output as `renderTemplate`, without
 * mustache's per-variable context walk when the template is only text and variables.
 */
export function compileTemplate(template: EmailTemplate): (view: TemplateView) => EmailTemplate {
  let compiled = compiledTemplates.get(template);
  if (compiled === undefined) compiledTemplates.set(template, (compiled = compileUncached(template)));
  return compiled;
}

/** By template object: the defaults are compiled once per process, a tenant's own once per read. */
const compiledTemplates = new WeakMap<EmailTemplate, (view: TemplateView) => EmailTemplate>();

function compileUncached(template: EmailTemplate): (view: TemplateView) => EmailTemplate {
  const subject = compilePart(template.subject, noEscape);
  const text = compilePart(template.text, noEscape);
  const html = compilePart(template.html, escapeHtml);
  if (subject === undefined || text === undefined || html === undefined) return (view) => renderTemplate(template, withoutPrototype(view));
  return (view) => ({ subject: oneLine(subject(view)), text: text(view), html: html(view) });
}

/** Renders the three parts of a message. */
export function renderTemplate(template: EmailTemplate, view: TemplateView): EmailTemplate {
  return {
    subject: oneLine(writer.render(template.subject, view, undefined, { escape: noEscape })),
    text: writer.render(template.text, view, undefined, { escape: noEscape }),
    html: writer.render(template.html, view, undefined, { escape: escapeHtml }),
  };
}
