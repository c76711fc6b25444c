import { describe, expect, it } from 'vitest';
import { withoutSecret } from '../src/core/email/compose-user-emails.js';
import { checkTemplate, compileTemplate, DEFAULT_TEMPLATES, renderTemplate, withoutPrototype, type TemplateView } from '../src/core/email/template-rendering.js';

const view: TemplateView = {
  user: {
    id: '6f1c0d7e-0000-4000-8000-000000000001',
    number: 7,
    userName: 'o"brien',
    email: 'obrien@example.com',
    givenName: 'Pat & <Co>',
    familyName: "O'Brien",
    displayName: "Pat & <Co> O'Brien",
    phoneNumber: '',
  },
  tenant: { id: 'acme', name: 'Acme' },
  invitation: { token: 'inv_abc', acceptUrl: 'https://muster.example.com/v1/invitations/accept', expiresAt: '2030-01-01T00:00:00.000Z', validHours: 72 },
};

describe('email templates', () => {
  it('escapes user fields in HTML and leaves them as written in the subject and the text', () => {
    const out = renderTemplate({ subject: 'Hi {{user.displayName}}', text: 'Hi {{user.displayName}}', html: '<p title="{{user.userName}}">{{user.displayName}}</p>' }, view);
    expect(out.subject).toBe("Hi Pat & <Co> O'Brien");
    expect(out.text).toBe("Hi Pat & <Co> O'Brien");
    expect(out.html).toBe('<p title="o&quot;brien">Pat &amp; &lt;Co&gt; O&#39;Brien</p>');
  });

  it('renders a subject on one line whatever the template holds, so no header can be added', () => {
    const out = renderTemplate({ subject: 'Hello\r\nBcc: someone@example.net\n {{user.email}}', text: 't', html: 'h' }, view);
    expect(out.subject).toBe('Hello Bcc: someone@example.net obrien@example.com');
  });

  it('renders the defaults with every variable they use filled in', () => {
    const invitation = renderTemplate(DEFAULT_TEMPLATES.invitation, view);
    expect(invitation.text).toContain('inv_abc');
    expect(invitation.text).toContain('https://muster.example.com/v1/invitations/accept');
    expect(invitation.text).toContain('until 2030-01-01T00:00:00.000Z (72 hours)');
    expect(invitation.html).toContain('<code>inv_abc</code>');
    expect(invitation.html).not.toContain('{{');
    const welcome = renderTemplate(DEFAULT_TEMPLATES.welcome, view);
    expect(welcome.subject).toBe('Welcome to Acme');
    expect(welcome.html).toContain('Pat &amp; &lt;Co&gt;');
  });

  it('accepts the defaults and refuses templates that would print raw HTML or do not parse', () => {
    expect(checkTemplate(DEFAULT_TEMPLATES.welcome).ok).toBe(true);
    expect(checkTemplate(DEFAULT_TEMPLATES.invitation).ok).toBe(true);
    const nested = checkTemplate({ subject: 's', text: 't', html: '{{#invitation}}<a href="x">{{{token}}}</a>{{/invitation}}' });
    expect(nested.ok).toBe(false);
    const unclosed = checkTemplate({ subject: '{{#user}}', text: 't', html: 'h' });
    expect(unclosed).toMatchObject({ ok: false, errors: [{ field: 'subject', code: 'INVALID_FIELD' }] });
  });

  it('removes the invitation code from a delivered message, wherever it appears', () => {
    const message = { subject: 'code inv_abc', text: 'inv_abc and inv_abc', html: '<code>inv_abc</code>', secret: 'inv_abc' };
    const cleaned = withoutSecret(message)!;
    expect(JSON.stringify(cleaned)).not.toContain('inv_abc');
    expect(cleaned.text).toBe('[invitation code removed after delivery] and [invitation code removed after delivery]');
    expect(withoutSecret({ ...message, secret: null })).toBeUndefined();
  });
});

describe('email templates: names that are not variables', () => {
  it('refuses a variable outside the catalogue ({{tenant}}), naming it, and accepts relative names inside a section', () => {
    const refused = checkTemplate({ subject: 'Hi {{tenant}}', text: 'Hi {{user.nickname}}', html: '<p>{{user.email}}</p>' });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.errors.map((e) => [e.field, e.code])).toEqual([
      ['subject', 'INVALID_FIELD'],
      ['text', 'INVALID_FIELD'],
    ]);
    expect(refused.errors[0]!.message).toContain('{{tenant}}');
    expect(checkTemplate({ subject: 'Hi', text: '{{#user}}{{email}}{{/user}}', html: '<p>{{#tenant}}{{name}}{{/tenant}}</p>' }).ok).toBe(true);
  });

  it('refuses a section that would print a whole object unescaped, and renders an object as nothing rather than failing', () => {
    const refused = checkTemplate({ subject: 'Hi', text: '{{#tenant}}{{{.}}}{{/tenant}}', html: '<p>x</p>' });
    expect(refused.ok).toBe(false);
    const out = renderTemplate({ subject: '{{#user}}{{.}}{{/user}}', text: 'a{{#tenant}}{{.}}{{/tenant}}b', html: '<p>{{#tenant}}{{.}}{{/tenant}}</p>' }, withoutPrototype(view));
    expect(out).toEqual({ subject: '', text: 'ab', html: '<p></p>' });
  });
});

describe('email templates: compiled for a batch', () => {
  const welcomeView: TemplateView = { user: view.user, tenant: view.tenant };
  const custom = [
    DEFAULT_TEMPLATES.welcome,
    DEFAULT_TEMPLATES.invitation,
    // Text and variables only: rendered without mustache.
    { subject: 'Hi {{ user.givenName }}\r\nBcc: x@example.net', text: '{{user.number}} {{invitation.token}} {{user.phoneNumber}}!', html: '<b>{{user.displayName}}</b>{{invitation.validHours}}' },
    // Sections, comments, unescaped forms, other delimiters and unknown names: rendered by mustache.
    { subject: '{{#invitation}}Invited{{/invitation}}{{^invitation}}Welcome{{/invitation}}', text: '{{! a comment }}{{{user.displayName}}}', html: '{{=<% %>=}}<p><% user.displayName %></p>' },
    { subject: '{{tenant.name}}', text: '{{& user.userName}}', html: '{{#user}}{{email}}{{/user}}' },
  ];

  it('renders exactly what mustache renders, with and without an invitation', () => {
    for (const template of custom) {
      for (const v of [view, welcomeView]) {
        expect(compileTemplate(template)(v)).toEqual(renderTemplate(template, withoutPrototype(v)));
      }
    }
  });

  it('escapes user fields in the HTML part only, as mustache does', () => {
    const out = compileTemplate({ subject: '{{user.displayName}}', text: '{{user.userName}}', html: '<p title="{{user.userName}}">{{user.displayName}}</p>' })(view);
    expect(out).toEqual({ subject: "Pat & <Co> O'Brien", text: 'o"brien', html: '<p title="o&quot;brien">Pat &amp; &lt;Co&gt; O&#39;Brien</p>' });
  });
});
