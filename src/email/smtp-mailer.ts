import nodemailer from 'nodemailer';
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

/** An error message naming the SMTP reply or the network failure, without the message's content. */
function describeFailure(error: unknown): string {
  const e = error as { responseCode?: number; response?: string; command?: string; code?: string; message?: string };
  if (typeof e?.responseCode === 'number') {
    const reply = (e.response ?? '').replace(/\s+/g, ' ').trim();
    return `SMTP ${e.responseCode}${e.command ? ` after ${e.command.split(' ')[0]}` : ''}: ${reply}`;
  }
  return `${e?.code ?? 'ERROR'}: ${e?.message ?? String(error)}`;
}

/**
 * The mail transport over SMTP (nodemailer, pooled). `SMTP_URL` is `smtp://user:pass@host:587`
 * (STARTTLS when the server offers it) or `smtps://…:465` (TLS from the start).
 */
export function createSmtpMailer(url: string): SmtpMailer {
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
        throw new Error(describeFailure(error));
      }
    },
    close: () => transport.close(),
  };
}
