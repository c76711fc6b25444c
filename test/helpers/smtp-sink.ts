import { SMTPServer } from 'smtp-server';
import { WAIT_DEADLINE_MS } from './wait.js';

/** One message as the sink received it, decoded enough to assert on. */
export interface ReceivedMail {
  messageId: string;
  from: string;
  to: string[];
  subject: string;
  date: string;
  text: string;
  html: string;
  raw: string;
}

export interface SmtpSink {
  /** `smtp://user:pass@127.0.0.1:PORT` */
  url: string;
  /** Every message the sink accepted, in order, repeats included (what crossed the wire). */
  deliveries: ReceivedMail[];
  /** What a recipient's mailbox keeps: one message per Message-ID (RFC 5322 §3.6.4), repeats dropped. */
  mailbox(): ReceivedMail[];
  /** SMTP reply codes to answer the next messages' DATA with, one per message (e.g. [451, 554]); then it accepts again. */
  refuseNext(...codes: number[]): void;
  /** How many DATA commands were refused so far. */
  refused: number;
  /** Resolves when `count` messages have been accepted. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function unfoldHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

function decodeWords(value: string): string {
  return value.replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_all, encoding: string, text: string) =>
    encoding.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8'),
  );
}

function decodeBody(body: string, encoding: string | undefined): string {
  switch ((encoding ?? '7bit').toLowerCase()) {
    case 'quoted-printable': {
      const bytes = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    }
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    default:
      return body;
  }
}

/** Splits a MIME entity into its text/plain and text/html parts (enough for what Muster sends). */
function parts(raw: string): { text: string; html: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headers = unfoldHeaders(raw.slice(0, split));
  const body = raw.slice(split + 4);
  const type = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (boundary) {
    const result = { text: '', html: '' };
    for (const part of body.split(`--${boundary}`).slice(1)) {
      if (part.startsWith('--')) break;
      const inner = parts(part.replace(/^\r\n/, ''));
      result.text ||= inner.text;
      result.html ||= inner.html;
    }
    return result;
  }
  const decoded = decodeBody(body.replace(/\r\n$/, ''), headers.get('content-transfer-encoding'));
  return type.toLowerCase().startsWith('text/html') ? { text: '', html: decoded } : { text: decoded, html: '' };
}

function parse(raw: string, to: string[]): ReceivedMail {
  const headers = unfoldHeaders(raw.slice(0, raw.indexOf('\r\n\r\n')));
  const { text, html } = parts(raw);
  return {
    messageId: headers.get('message-id') ?? '',
    from: decodeWords(headers.get('from') ?? ''),
    to,
    subject: decodeWords(headers.get('subject') ?? ''),
    date: headers.get('date') ?? '',
    text: text.replace(/\r\n/g, '\n'),
    html: html.replace(/\r\n/g, '\n'),
    raw,
  };
}

/** A real SMTP server on 127.0.0.1 that keeps what it receives, and can refuse on demand. */
export async function startSmtpSink(credentials = { user: 'muster', pass: 'sink-password' }): Promise<SmtpSink> {
  const deliveries: ReceivedMail[] = [];
  const refusals: number[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let refused = 0;
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, callback) {
      if (auth.username === credentials.user && auth.password === credentials.pass) return callback(null, { user: auth.username });
      return callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const code = refusals.shift();
        if (code !== undefined) {
          refused++;
          return callback(Object.assign(new Error(code >= 500 ? 'Transaction failed' : 'Try again later'), { responseCode: code }));
        }
        const to = session.envelope.rcptTo.map((r) => r.address);
        deliveries.push(parse(Buffer.concat(chunks).toString('latin1'), to));
        for (const waiter of [...waiters]) {
          if (deliveries.length >= waiter.count) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        }
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://${credentials.user}:${credentials.pass}@127.0.0.1:${port}`,
    deliveries,
    mailbox() {
      const seen = new Set<string>();
      return deliveries.filter((m) => !seen.has(m.messageId) && seen.add(m.messageId));
    },
    refuseNext(...codes) {
      refusals.push(...codes);
    },
    get refused() {
      return refused;
    },
    waitFor(count, timeoutMs = WAIT_DEADLINE_MS) {
      if (deliveries.length >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the SMTP sink got ${deliveries.length} of ${count} messages in ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
