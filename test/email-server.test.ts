import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVER_ADMIN_TOKEN as ADMIN, startServerProcess as startServer } from './helpers/import-server.js';
import { call } from './helpers/test-app.js';
import { startSmtpSink } from './helpers/smtp-sink.js';

describe('the server process and its email sender', () => {
  const dir = mkdtempSync(join(tmpdir(), 'muster-email-server-'));
  const databaseUrl = `sqlite:${join(dir, 'muster.db')}`;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps emails in the outbox without SMTP_URL, sends them once started with it, and stops cleanly on SIGTERM', async () => {
    // Without SMTP: the message stays in the outbox, readable by an admin.
    const first = await startServer({ DATABASE_URL: databaseUrl, MUSTER_PUBLIC_URL: 'https://muster.example.com' });
    let userId: string;
    try {
      const created = await call(first.baseUrl, 'POST', '/v1/tenants/default/users', { token: ADMIN, body: { email: 'newcomer@example.com' } });
      expect(created.status).toBe(201);
      userId = created.body.id;
      const messages = await call(first.baseUrl, 'GET', `/v1/tenants/default/messages?userId=${userId}`, { token: ADMIN });
      expect(messages.body.messages).toHaveLength(1);
      expect(messages.body.messages[0]).toMatchObject({ kind: 'invitation', status: 'pending' });
      expect(messages.body.messages[0].text).toContain('https://muster.example.com/v1/invitations/accept');
    } finally {
      expect(await first.stop()).toBe(0);
    }
    expect(first.output()).toContain('SMTP_URL is not set');

    // Restarted with SMTP: the pending message goes out, then SIGTERM lets the sender finish.
    const sink = await startSmtpSink();
    const second = await startServer({ DATABASE_URL: databaseUrl, SMTP_URL: sink.url, MUSTER_MAIL_FROM: 'Acme HR <hr@acme.example>' });
    try {
      await sink.waitFor(1);
      const created = await call(second.baseUrl, 'POST', '/v1/tenants/default/users', { token: ADMIN, body: { email: 'second@example.com', password: 'a long enough password' } });
      expect(created.status).toBe(201);
      await sink.waitFor(2);
    } finally {
      expect(await second.stop()).toBe(0);
      await sink.close();
    }
    expect(sink.deliveries.map((m) => m.to[0])).toEqual(['newcomer@example.com', 'second@example.com']);
    expect(sink.deliveries[1]!.from).toBe('Acme HR <hr@acme.example>');
    expect(sink.deliveries[1]!.messageId).toMatch(/@acme\.example>$/);
    const log = second.output();
    expect(log).toContain('delivering emails from the outbox');
    expect(log).not.toContain('sink-password');
    expect(log).not.toMatch(/inv_[A-Za-z0-9_-]{43}/);
  });
});
