import { pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { hash as argon2Hash } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HASH_LIMITS, needsRehash, parsePasswordHash } from '../src/core/passwords/hash-formats.js';
import { verifyPasswordHash } from '../src/core/passwords/hash-verifier.js';
import { DATABASES } from './helpers/databases.js';
import { createTenant, expectProblem } from './helpers/native-fixtures.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

/** Standard base64 without padding, as PHC strings write salts and hashes. */
const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');
/** passlib's adapted base64: `.` for `+`, no padding. */
const ab64 = (bytes: Buffer) => b64(bytes).replace(/\+/g, '.');

/** One password per algorithm, each hashed by an implementation other than Muster's. */
interface Legacy {
  name: string;
  password: string;
  hash: string;
  /** Stays as it is after a successful verification (already as strong as Muster's own). */
  kept?: boolean;
}

async function legacyHashes(): Promise<Legacy[]> {
  const salt = randomBytes(16);
  const scryptPassword = 'scrypt passphrase 1';
  const pbkdf256Password = 'pbkdf2 sha256 passphrase';
  const pbkdf512Password = 'pbkdf2 sha512 passphrase';
  const djangoPassword = 'django passphrase 9';
  const djangoSalt = 'tQ8xkU1nOEDsOQ6wXvGxeN';
  return [
    // bcrypt from bcryptjs, a pure JavaScript implementation (Muster verifies with the native `bcrypt` addon).
    { name: 'bcrypt $2b$', password: 'bcrypt b passphrase', hash: await bcrypt.hash('bcrypt b passphrase', 6) },
    { name: 'bcrypt $2a$', password: 'bcrypt a passphrase', hash: (await bcrypt.hash('bcrypt a passphrase', 5)).replace(/^\$2b\$/, '$2a$') },
    // PHP's password_hash writes $2y$: the same algorithm under another prefix.
    { name: 'bcrypt $2y$', password: 'bcrypt y passphrase', hash: (await bcrypt.hash('bcrypt y passphrase', 5)).replace(/^\$2b\$/, '$2y$') },
    // node:crypto's scrypt, in passlib's encoding.
    { name: 'scrypt', password: scryptPassword, hash: `$scrypt$ln=14,r=8,p=1$${b64(salt)}$${b64(scryptSync(scryptPassword, salt, 32, { N: 2 ** 14, r: 8, p: 1 }))}` },
    // node:crypto's PBKDF2: passlib's form (bare rounds, adapted base64) and the PHC form (i=).
    { name: 'pbkdf2-sha256 (passlib)', password: pbkdf256Password, hash: `$pbkdf2-sha256$29000$${ab64(salt)}$${ab64(pbkdf2Sync(pbkdf256Password, salt, 29000, 32, 'sha256'))}` },
    { name: 'pbkdf2-sha512 (PHC)', password: pbkdf512Password, hash: `$pbkdf2-sha512$i=25000,l=64$${b64(salt)}$${b64(pbkdf2Sync(pbkdf512Password, salt, 25000, 64, 'sha512'))}` },
    { name: 'pbkdf2-sha256 (Django)', password: djangoPassword, hash: `pbkdf2_sha256$10000$${djangoSalt}$${pbkdf2Sync(djangoPassword, djangoSalt, 10000, 32, 'sha256').toString('base64')}` },
    // @node-rs/argon2 with parameters other than Muster's.
    { name: 'argon2i', password: 'argon2i passphrase', hash: await argon2Hash('argon2i passphrase', { algorithm: 1, memoryCost: 8192, timeCost: 3, parallelism: 2 }) },
    { name: 'argon2id, weaker', password: 'weak argon2id phrase', hash: await argon2Hash('weak argon2id phrase', { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 }) },
    { name: 'argon2id, stronger', password: 'strong argon2id phrase', hash: await argon2Hash('strong argon2id phrase', { algorithm: 2, memoryCost: 32768, timeCost: 3, parallelism: 1 }), kept: true },
  ];
}

describe('password hash formats', () => {
  let legacy: Legacy[];
  beforeAll(async () => {
    legacy = await legacyHashes();
  });

  it('verifies every supported algorithm from hashes made by other implementations, and rejects wrong passwords', async () => {
    for (const { name, password, hash } of legacy) {
      expect(parsePasswordHash(hash).ok, name).toBe(true);
      expect(await verifyPasswordHash(hash, password), name).toBe(true);
      expect(await verifyPasswordHash(hash, `${password}!`), name).toBe(false);
    }
  });

  it('asks for a re-hash of everything but argon2id at least as strong as the current parameters', () => {
    for (const { name, hash, kept } of legacy) expect(needsRehash(hash), name).toBe(!kept);
  });

  it('refuses malformed hashes and parameters past the bounds, without quoting the hash', () => {
    const bcryptTail = 'N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy';
    const s = b64(randomBytes(16));
    const h = b64(randomBytes(32));
    const refused = [
      'plain text password',
      '$1$abc$defghijk', // MD5-crypt
      `$2x$10$${bcryptTail}`,
      `$2b$${HASH_LIMITS.bcrypt.maxCost + 1}$${bcryptTail}`,
      `$2b$03$${bcryptTail}`,
      `$2b$10$${bcryptTail.slice(1)}`,
      `$argon2d$v=19$m=19456,t=2,p=1$${s}$${h}`,
      `$argon2id$v=18$m=19456,t=2,p=1$${s}$${h}`,
      `$argon2id$v=19$m=${HASH_LIMITS.argon2.maxMemoryKiB * 2},t=1,p=1$${s}$${h}`,
      `$argon2id$v=19$m=65536,t=${HASH_LIMITS.argon2.maxTimeCost + 1},p=1$${s}$${h}`,
      `$argon2id$v=19$m=19456,t=2$${s}$${h}`,
      `$argon2id$v=19$m=19456,t=2,p=1$${s}$${b64(randomBytes(8))}`, // output too short
      `$argon2id$v=19$m=19456,t=2,p=1$not*base64$${h}`,
      `$scrypt$ln=${HASH_LIMITS.scrypt.maxLogN + 1},r=8,p=1$${s}$${h}`,
      `$scrypt$ln=18,r=16,p=1$${s}$${h}`, // 512 MiB
      `$scrypt$ln=14,r=8$${s}$${h}`,
      `$pbkdf2-sha256$${HASH_LIMITS.pbkdf2.maxIterationsSha256 + 1}$${s}$${h}`,
      `$pbkdf2-sha512$i=${HASH_LIMITS.pbkdf2.maxIterationsSha512 + 1}$${s}$${h}`,
      `$pbkdf2-sha256$i=1000,l=16$${s}$${h}`, // l= disagrees with the hash
      `$pbkdf2-sha1$1000$${s}$${h}`,
      `$${'a'.repeat(600)}`,
    ];
    for (const hash of refused) {
      const result = parsePasswordHash(hash);
      expect(result.ok, hash).toBe(false);
      if (!result.ok) {
        expect(result.message).not.toContain(s);
        expect(result.message).not.toContain(bcryptTail);
      }
    }
  });
});

describe.each(DATABASES)('importing pre-hashed passwords on %s', (kind) => {
  let t: TestApp;
  let legacy: Legacy[];

  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'migrated', name: 'Migrated' });
    legacy = await legacyHashes();
  });
  afterAll(async () => t.close());

  const emailOf = (i: number, prefix = 'legacy') => `${prefix}${i}@example.com`;
  const storedHash = async (id: string) =>
    (await t.db.kysely.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow()).password_hash;
  /** Creates one user per legacy hash, named `${prefix}${i}@example.com`: each test its own. */
  async function importLegacy(prefix: string) {
    const res = await t.call('POST', '/v1/tenants/migrated/users/batch', {
      body: { users: legacy.map((l, i) => ({ email: emailOf(i, prefix), passwordHash: l.hash })) },
    });
    expect(res.status, res.text).toBe(200);
    const ids = new Map<string, string>((res.body.results as any[]).map((r, i) => [emailOf(i, prefix), r.user?.id]));
    return { res, ids };
  }

  it('creates a batch with mixed algorithms and stores each hash exactly as given', async () => {
    const { res } = await importLegacy('legacy');
    expect(res.body.successCount).toBe(legacy.length);
    for (const [i, result] of (res.body.results as any[]).entries()) {
      expect(result.status).toBe('created');
      expect(result.user.hasPassword).toBe(true);
      expect(await storedHash(result.user.id)).toBe(legacy[i]!.hash);
    }
    // Neither the hashes nor anything of them leaves in the response.
    for (const l of legacy) expect(res.text).not.toContain(l.hash.slice(-20));
    expect(res.text).not.toContain('passwordHash');
  });

  it('welcomes users with an imported hash instead of inviting them to set a password', async () => {
    await importLegacy('welcomed');
    const rows = await t.db.kysely.selectFrom('email_messages').select(['kind', 'to_address']).where('tenant_id', '=', 'migrated').where('to_address', 'like', 'welcomed%').execute();
    expect(rows).toHaveLength(legacy.length);
    expect(rows.every((r) => r.kind === 'welcome')).toBe(true);
  });

  it('verifies each imported password, then re-hashes it to argon2id with the current parameters', async () => {
    const { ids } = await importLegacy('verified');
    const emailOf = (i: number) => `verified${i}@example.com`;
    for (const [i, l] of legacy.entries()) {
      const id = ids.get(emailOf(i))!;
      const wrong = await t.call('POST', '/v1/tenants/migrated/credentials/verify', { body: { login: emailOf(i), password: `${l.password}?` } });
      expect(wrong.body, l.name).toEqual({ valid: false });
      expect(await storedHash(id), `${l.name}: a wrong password changes nothing`).toBe(l.hash);

      const right = await t.call('POST', '/v1/tenants/migrated/credentials/verify', { body: { login: emailOf(i), password: l.password } });
      expect(right.status, right.text).toBe(200);
      expect(right.body.valid, l.name).toBe(true);
      expect(right.body.user.id).toBe(id);
      const after = await storedHash(id);
      if (l.kept) {
        expect(after, l.name).toBe(l.hash);
      } else {
        expect(after, l.name).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
        expect(after).not.toBe(l.hash);
      }
      // The upgraded hash still opens with the same password, and only with it.
      expect(await t.core.hasher.verify(after!, l.password)).toBe(true);
      const again = await t.call('POST', '/v1/tenants/migrated/credentials/verify', { body: { login: emailOf(i), password: l.password } });
      expect(again.body.valid, l.name).toBe(true);
    }
  });

  it('refuses an unsupported or out-of-bounds hash as INVALID_FIELD on passwordHash, naming no part of it', async () => {
    const hash = `$2b$31$${'N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'}`;
    const res = await t.call('POST', '/v1/tenants/migrated/users', { body: { email: 'slow@example.com', passwordHash: hash } });
    const problem = expectProblem(res, 400, 'INVALID_FIELD');
    expect(problem.errors).toEqual([{ field: 'passwordHash', code: 'INVALID_FIELD', message: 'bcrypt cost must be 4 to 14.' }]);
    expect(res.text).not.toContain('N9qo8uLO');

    const unknown = await t.call('POST', '/v1/tenants/migrated/users', { body: { email: 'md5@example.com', passwordHash: '5f4dcc3b5aa765d61d8327deb882cf99' } });
    expect(expectProblem(unknown, 400, 'INVALID_FIELD').errors[0].field).toBe('passwordHash');
    expect(unknown.text).not.toContain('5f4dcc3b');
  });

  it('refuses passwordHash together with password or generatePassword', async () => {
    const hash = legacy[0]!.hash;
    const withPassword = await t.call('POST', '/v1/tenants/migrated/users', { body: { email: 'both@example.com', passwordHash: hash, password: 'another passphrase' } });
    expect(expectProblem(withPassword, 400, 'INVALID_FIELD').errors[0].field).toBe('password');
    const withGenerated = await t.call('POST', '/v1/tenants/migrated/users', { body: { email: 'both@example.com', passwordHash: hash, generatePassword: true } });
    expect(expectProblem(withGenerated, 400, 'INVALID_FIELD').errors[0].field).toBe('generatePassword');
    const count = await t.db.kysely.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('email', '=', 'both@example.com').executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(0);
  });

  it('fails one bad hash of a batch alone and creates the others', async () => {
    const res = await t.call('POST', '/v1/tenants/migrated/users/batch', {
      body: { users: [{ email: 'fine@example.com', passwordHash: legacy[3]!.hash }, { email: 'broken@example.com', passwordHash: '$scrypt$ln=99,r=8,p=1$AAAA$BBBB' }] },
    });
    expect(res.status).toBe(200);
    expect(res.body.results[0].status).toBe('created');
    expect(res.body.results[1]).toMatchObject({ status: 'failed', error: { code: 'INVALID_FIELD', errors: [{ field: 'passwordHash', code: 'INVALID_FIELD' }] } });
  });
});
