import nodemailer from 'nodemailer';
import { redactCredentials } from '../core/email/redact-credentials.js';
import type { Mailer } from '../core/ports.js';

export interface SmtpMailer extends Mailer {
  /** Closes the pooled connections. */
  close(): void;
}

/** Which part of an SMTP URL may be shown: scheme, host and port, never the credentials. */
export function describeSmtpUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return 'an unparsable SMTP_URL';
  }
}

/**
 * The forms in which this transport's own password can appear in a reply: as written, and
 * base64-encoded as AUTH PLAIN and AUTH LOGIN send it.
 */
function credentialForms(url: string): string[] {
  let user = '';
  let pass = '';
  try {
    const parsed = new URL(url);
    user = decodeURIComponent(parsed.username);
    pass = decodeURIComponent(parsed.password);
  } catch {
    return [];
  }
  if (pass === '') return [];
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  return [pass, encodeURIComponent(pass), b64(pass), b64(`\u0000${user}\u0000${pass}`), b64(`${user}\u0000${user}\u0000${pass}`)].sort((a, b) => b.length - a.length);
}

/**
 * An error message naming the SMTP reply or the network failure, without the message's content
 * and without credentials: this transport's own password in any of its forms, and whatever
 * else looks like one (see redactCredentials), are replaced by `[redacted]`.
 */
function describeFailure(error: unknown, secrets: readonly string[]): string {
  const e = error as { responseCode?: number; response?: string; command?: string; code?: string; message?: string };
  const text =
    typeof e?.responseCode === 'number'
      ? `SMTP ${e.responseCode}${e.command ? ` after ${e.command.split(' ')[0]}` : ''}: ${(e.response ?? '').replace(/\s+/g, ' ').trim()}`
      : `${e?.code ?? 'ERROR'}: ${e?.message ?? String(error)}`;
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return redactCredentials(out);
}

/**
 * The mail transport over SMTP (nodemailer, pooled). `SMTP_URL` is `smtp://user:pass@host:587`
 * (STARTTLS when the server offers it) or `smtps://…:465` (TLS from the start).
 */
export function createSmtpMailer(url: string): SmtpMailer {
  const secrets = credentialForms(url);
  const transport = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections: 2,
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
    // Nothing in a message refers to files or URLs to inline; refuse them outright.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
    debug: false,
  });
  return {
    async send(mail) {
      try {
        await transport.sendMail({
          from: mail.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: mail.messageId,
          date: mail.date,
          headers: { 'Auto-Submitted': 'auto-generated' },
        });
      } catch (error) {
        throw new Error(describeFailure(error, secrets));
      }
    },
    close: () => transport.close(),
  };
}
