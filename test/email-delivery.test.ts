import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { retryDelayMs } from '../src/core/email/deliver-messages.js';
import type { Mailer } from '../src/core/ports.js';
import { DATABASES } from './helpers/databases.js';
import { outboxRows, startTestSender, type TestSender } from './helpers/email.js';
import { manualClock } from './helpers/manual-clock.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

const TOKEN_PATTERN = /inv_[A-Za-z0-9_-]{43}/;

describe.each(DATABASES)('email delivery over SMTP on %s', (kind) => {
  let t: TestApp;
  let sink: SmtpSink;
  const senders: TestSender[] = [];
  let tenantCounter = 0;

  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => t.close());
  afterEach(async () => {
    await Promise.all(senders.splice(0).map((s) => s.close()));
    await sink?.close();
    // Each test starts with an empty outbox: senders claim every tenant's messages.
    await t.db.kysely.deleteFrom('email_messages').execute();
  });

  /** A fresh tenant per test, so that each test's outbox holds only its own messages. */
  async function freshTenant(): Promise<string> {
    const id = `t${++tenantCounter}`;
    await t.call('POST', '/v1/tenants', { body: { id, name: `Tenant ${tenantCounter}` } });
    return id;
  }

  function sender(options: Parameters<typeof startTestSender>[2] = {}): TestSender {
    const s = startTestSender(t.db, sink.url, options);
    senders.push(s);
    return s;
  }

  async function rowsOf(tenant: string) {
    return (await outboxRows(t.db)).filter((m) => m.tenant_id === tenant);
  }

  it('delivers the welcome message as stored: headers, text and HTML', async () => {
    sink = await startSmtpSink();
    const tenant = await freshTenant();
    const user = await t.call('POST', `/v1/tenants/${tenant}/users`, {
      body: { email: 'ada@example.com', password: 'correct horse battery', name: { givenName: 'Ada', familyName: 'Lovelace' } },
    });
    const [stored] = await rowsOf(tenant);
    const report = await sender().sender.drain();
    expect(report).toMatchObject({ claimed: 1, sent: 1, retrying: 0, failed: 0 });

    expect(sink.deliveries).toHaveLength(1);
    const mail = sink.deliveries[0]!;
    expect(mail.messageId).toBe(stored!.message_id);
    expect(mail.to).toEqual(['ada@example.com']);
    expect(mail.from).toBe('Muster <no-reply@muster.invalid>');
    expect(mail.subject).toBe(`Welcome to Tenant ${tenantCounter}`);
    expect(new Date(mail.date).getTime()).toBe(Math.floor(Date.parse(stored!.created_at) / 1000) * 1000);
    expect(mail.text).toContain('Hello Ada Lovelace,');
    expect(mail.html).toContain('<p>Hello Ada Lovelace,</p>');
    expect(mail.raw).toMatch(/^Auto-Submitted: auto-generated$/im);
    expect(mail.raw).not.toContain('correct horse battery');

    const listed = (await t.call('GET', `/v1/tenants/${tenant}/messages?userId=${user.body.id}`)).body.messages[0];
    expect(listed).toMatchObject({ status: 'sent', attempts: 1, lastError: null, nextAttemptAt: null });
    expect(Date.parse(listed.sentAt)).toBeGreaterThanOrEqual(Date.parse(listed.createdAt));
  });

  it('delivers an invitation with its code, then removes the code from the stored copy', async () => {
    sink = await startSmtpSink();
    const tenant = await freshTenant();
    const user = await t.call('POST', `/v1/tenants/${tenant}/users`, { body: { email: 'grace@example.com' } });
    const before = (await t.call('GET', `/v1/tenants/${tenant}/messages`)).body.messages[0];
    const token = TOKEN_PATTERN.exec(before.text)![0];

    await sender().sender.drain();
    const mail = sink.deliveries[0]!;
    expect(mail.text).toContain(token);
    expect(mail.html).toContain(token);

    const after = (await t.call('GET', `/v1/tenants/${tenant}/messages`)).body.messages[0];
    expect(after.status).toBe('sent');
    expect(JSON.stringify(after)).not.toContain(token);
    expect(after.text).toContain('[invitation code removed after delivery]');
    expect((await rowsOf(tenant))[0]!.secret).toBeNull();

    // The delivered code works.
    const accepted = await t.call('POST', '/v1/invitations/accept', { token: null, body: { token, password: 'delivered safely 2024' } });
    expect(accepted.status).toBe(200);
    expect(accepted.body.userId).toBe(user.body.id);
  });

  it('sends nothing for a dry run or with notify=false', async () => {
    sink = await startSmtpSink();
    const tenant = await freshTenant();
    await t.call('POST', `/v1/tenants/${tenant}/users?dryRun=true`, { body: { email: 'dry@example.com' } });
    await t.call('POST', `/v1/tenants/${tenant}/users/batch?notify=false`, { body: { users: [{ email: 'q1@example.com' }, { email: 'q2@example.com' }] } });
    const report = await sender().sender.drain();
    expect(report.claimed).toBe(0);
    expect(sink.deliveries).toEqual([]);
  });

  it('retries with backoff when the SMTP server refuses, keeping the attempts and the last error', async () => {
    sink = await startSmtpSink();
    const tenant = await freshTenant();
    await t.call('POST', `/v1/tenants/${tenant}/users`, { body: { email: 'retry@example.com' } });
    sink.refuseNext(451, 554);
    // The sender's time is a manual clock: the test moves it past each wait instead of sleeping.
    const clock = manualClock();
    const s = sender({ clock, policy: { backoffBaseMs: 30_000, backoffMaxMs: 3_600_000 } });

    const first = await s.sender.runOnce();
    expect(first).toMatchObject({ claimed: 1, retrying: 1 });
    let [row] = await rowsOf(tenant);
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    expect(row!.last_error).toMatch(/^SMTP 451/);
    // The next attempt waits 24 to 30 s after the first failure (the base, less up to a fifth).
    const wait = Date.parse(row!.next_attempt_at!) - clock.ms();
    expect(wait).toBeGreaterThanOrEqual(24_000);
    expect(wait).toBeLessThanOrEqual(30_000);
    expect((await s.sender.runOnce()).claimed).toBe(0);
    // Not a millisecond early, and due the moment its time comes.
    clock.advance(wait - 1);
    expect((await s.sender.runOnce()).claimed).toBe(0);
    clock.advance(1);
    expect(await s.sender.runOnce()).toMatchObject({ claimed: 1, retrying: 1 });
    [row] = await rowsOf(tenant);
    expect(row).toMatchObject({ status: 'pending', attempts: 2 });
    expect(row!.last_error).toMatch(/^SMTP 554/);
    // The second wait is twice the base: 48 to 60 s.
    const secondWait = Date.parse(row!.next_attempt_at!) - clock.ms();
    expect(secondWait).toBeGreaterThanOrEqual(48_000);
    expect(secondWait).toBeLessThanOrEqual(60_000);

    clock.advance(secondWait - 1);
    expect((await s.sender.runOnce()).claimed).toBe(0);
    clock.advance(1);
    expect(await s.sender.runOnce()).toMatchObject({ claimed: 1, sent: 1 });
    [row] = await rowsOf(tenant);
    expect(row).toMatchObject({ status: 'sent', attempts: 3 });
    expect(row!.last_error).toMatch(/^SMTP 554/);
    expect(sink.refused).toBe(2);
    expect(sink.deliveries).toHaveLength(1);
  });

  it('gives a message up after its last attempt', async () => {
    sink = await startSmtpSink();
    const tenant = await freshTenant();
    await t.call('POST', `/v1/tenants/${tenant}/users`, { body: { email: 'never@example.com' } });
    sink.refuseNext(550, 550, 550);
    const report = await sender({ policy: { maxAttempts: 3 } }).sender.drain();
    expect(report).toMatchObject({ retrying: 2, failed: 1, sent: 0 });
    const [row] = await rowsOf(tenant);
    expect(row).toMatchObject({ status: 'failed', attempts: 3, next_attempt_at: null });
    expect(sink.deliveries).toEqual([]);
    const listed = (await t.call('GET', `/v1/tenants/${tenant}/messages?status=failed`)).body.messages;
    expect(listed).toHaveLength(1);
    expect(listed[0].lastError).toMatch(/^SMTP 550/);
  });

  it('records a network failure and tries again once the server is back', async () => {
    sink = await startSmtpSink();
    const tenant = await freshTenant();
    await t.call('POST', `/v1/tenants/${tenant}/users`, { body: { email: 'offline@example.com' } });
    const url = sink.url;
    await sink.close();
    // FAST_POLICY retries at once: on one clock that stands still, the message is due again for the next sender.
    const clock = manualClock();
    const down = startTestSender(t.db, url, { clock });
    senders.push(down);
    expect(await down.sender.runOnce()).toMatchObject({ retrying: 1 });
    const [row] = await rowsOf(tenant);
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    expect(row!.last_error).toMatch(/ECONNECTION|ESOCKET|ECONNREFUSED/);
    expect(row!.last_error).not.toContain('sink-password');

    sink = await startSmtpSink();
    expect(await sender({ clock }).sender.drain()).toMatchObject({ sent: 1 });
    expect(sink.deliveries.map((m) => m.to)).toEqual([['offline@example.com']]);
  });

  it('sends after a restart what was written while no sender ran', async () => {
    sink = await startSmtpSink();
    const tenant = await freshTenant();
    const batch = await t.call('POST', `/v1/tenants/${tenant}/users/batch`, { body: { users: [{ email: 'r1@example.com' }, { email: 'r2@example.com' }, { email: 'r3@example.com' }] } });
    expect(batch.body.successCount).toBe(3);
    // A new process: its own connection to the same database, a sender started as the server starts it.
    const db = t.database.open();
    try {
      const s = startTestSender(db, sink.url);
      s.sender.start();
      await sink.waitFor(3);
      await s.close();
    } finally {
      await db.close();
    }
    expect(sink.deliveries.map((m) => m.to[0]).sort()).toEqual(['r1@example.com', 'r2@example.com', 'r3@example.com']);
    expect((await rowsOf(tenant)).every((m) => m.status === 'sent' && m.attempts === 1)).toBe(true);
  });

  it('delivers a message once to the mailbox when the sender dies between sending and marking it sent', async () => {
    sink = await startSmtpSink();
    const tenant = await freshTenant();
    await t.call('POST', `/v1/tenants/${tenant}/users`, { body: { email: 'crash@example.com' } });

    // The first process hands the message to SMTP, then "dies": it never records the outcome.
    let died!: () => void;
    const death = new Promise<void>((resolve) => (died = resolve));
    const diesAfterSending = (mailer: Mailer): Mailer => ({
      async send(mail) {
        await mailer.send(mail);
        died();
        return new Promise<void>(() => {});
      },
    });
    // Both senders go by one manual clock; the lease is a minute.
    const clock = manualClock();
    const doomed = startTestSender(t.db, sink.url, { clock, wrap: diesAfterSending, policy: { leaseMs: 60_000, sendBudgetMs: 10_000 } });
    void doomed.sender.runOnce();
    await death;
    expect(sink.deliveries).toHaveLength(1);
    let [row] = await rowsOf(tenant);
    expect(row).toMatchObject({ status: 'sending', attempts: 1 });
    expect(Date.parse(row!.lease_until!)).toBe(clock.ms() + 60_000);

    // While the lease runs, to its last millisecond, no other sender touches the message.
    const survivor = sender({ clock });
    expect((await survivor.sender.runOnce()).claimed).toBe(0);
    clock.advance(59_999);
    expect((await survivor.sender.runOnce()).claimed).toBe(0);

    // Once it has run out, the message is sent again under the same Message-ID; the mailbox keeps one.
    clock.advance(1);
    expect(await survivor.sender.runOnce()).toMatchObject({ claimed: 1, sent: 1 });
    expect(sink.deliveries).toHaveLength(2);
    expect(sink.deliveries[1]!.messageId).toBe(sink.deliveries[0]!.messageId);
    expect(sink.deliveries[1]!.date).toBe(sink.deliveries[0]!.date);
    expect(sink.mailbox()).toHaveLength(1);
    [row] = await rowsOf(tenant);
    expect(row).toMatchObject({ status: 'sent', attempts: 2 });
    expect(sink.deliveries[0]!.messageId).toBe(row!.message_id);
    doomed.mailer.close();
  });

  // Two processes sharing a SQLite file serialise on its write lock; two connections inside one
  // test process cannot show that (better-sqlite3 waits for the lock synchronously), so this runs on PostgreSQL.
  it.runIf(kind === 'postgres')('never lets several senders send one message, each sending its share once', async () => {
    sink = await startSmtpSink();
    const tenant = await freshTenant();
    const users = Array.from({ length: 60 }, (_, i) => ({ email: `u${i}@example.com` }));
    expect((await t.call('POST', `/v1/tenants/${tenant}/users/batch`, { body: { users } })).body.successCount).toBe(60);

    // Three processes: each its own connection pool to the one database, claiming small batches.
    const dbs = [t.database.open(), t.database.open(), t.database.open()];
    try {
      const running = dbs.map((db, i) => startTestSender(db, sink.url, { owner: `p${i}`, policy: { batchSize: 3 } }));
      const reports = await Promise.all(running.map((r) => r.sender.drain()));
      await Promise.all(running.map((r) => r.close()));
      expect(reports.reduce((sum, r) => sum + r.sent, 0)).toBe(60);
      expect(reports.reduce((sum, r) => sum + r.claimed, 0)).toBe(60);
      // Claims interleave (SKIP LOCKED): more than one process did part of the work.
      expect(reports.filter((r) => r.sent > 0).length).toBeGreaterThan(1);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
    expect(sink.deliveries).toHaveLength(60);
    expect(new Set(sink.deliveries.map((m) => m.messageId)).size).toBe(60);
    expect(sink.deliveries.map((m) => m.to[0]).sort()).toEqual(users.map((u) => u.email).sort());
    expect((await rowsOf(tenant)).every((m) => m.status === 'sent' && m.attempts === 1)).toBe(true);
  });

  it('hands a message to SMTP only while enough of its lease is left, and gives the rest back', async () => {
    sink = await startSmtpSink();
    const tenant = await freshTenant();
    await t.call('POST', `/v1/tenants/${tenant}/users/batch`, { body: { users: [{ email: 'l1@example.com' }, { email: 'l2@example.com' }, { email: 'l3@example.com' }] } });
    // Each send takes 300 ms of the sender's (manual) clock.
    const clock = manualClock();
    const slow = (mailer: Mailer): Mailer => ({
      async send(mail) {
        await mailer.send(mail);
        clock.advance(300);
      },
    });
    // One at a time, 300 ms each, with a 1 s lease of which 800 ms must be left to start a send.
    const s = startTestSender(t.db, sink.url, { clock, wrap: slow, policy: { leaseMs: 1000, sendBudgetMs: 800, concurrency: 1 } });
    senders.push(s);
    expect(await s.sender.runOnce()).toMatchObject({ claimed: 3, sent: 1, released: 2 });
    const rows = await rowsOf(tenant);
    expect(rows.map((m) => [m.status, m.attempts])).toEqual([['sent', 1], ['pending', 0], ['pending', 0]]);
    expect(rows.every((m) => m.lease_owner === null)).toBe(true);
    expect(await s.sender.drain()).toMatchObject({ sent: 2 });
    expect(sink.deliveries).toHaveLength(3);
  });

  it('lets the send in flight finish when stopped', async () => {
    sink = await startSmtpSink();
    const tenant = await freshTenant();
    await t.call('POST', `/v1/tenants/${tenant}/users`, { body: { email: 'slow@example.com' } });
    let started!: () => void;
    const sending = new Promise<void>((resolve) => (started = resolve));
    let finishSend!: () => void;
    const held = new Promise<void>((resolve) => (finishSend = resolve));
    // A send that lasts until the test lets it finish.
    const slow = (mailer: Mailer): Mailer => ({
      async send(mail) {
        started();
        await held;
        await mailer.send(mail);
      },
    });
    const s = startTestSender(t.db, sink.url, { wrap: slow });
    s.sender.start();
    await sending;
    let stopped = false;
    const stopping = s.close().then(() => (stopped = true));
    // Stopping waits for the send in flight: a full turn of the event loop later it has not returned.
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    finishSend();
    await stopping;
    expect(sink.deliveries).toHaveLength(1);
    expect((await rowsOf(tenant))[0]).toMatchObject({ status: 'sent' });
  });
});

describe('retry delays', () => {
  const policy = { backoffBaseMs: 30_000, backoffMaxMs: 3_600_000 };
  it('double after each failed attempt, up to the cap, less at most a fifth at random', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, policy, () => 0))).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(retryDelayMs(20, policy, () => 0)).toBe(3_600_000);
    expect(retryDelayMs(1, policy, () => 1)).toBe(24_000);
  });
});
