import { describe, expect, it } from 'vitest';
import { DEFAULT_PASSWORD_POLICY, type Tenant } from '../src/core/tenants/tenant.js';
import { emailLocalPart, hasForbiddenCharacters, identityKey } from '../src/core/users/normalise.js';
import { checkDraft } from '../src/core/users/validate-draft.js';
import { fieldsWithNul } from '../src/core/nul-characters.js';
import { isCommonEmail } from '../src/core/validation.js';
import validator from 'validator';

function tenant(overrides: Partial<Tenant> = {}): Tenant {
  return {
    id: 'acme',
    name: 'Acme',
    seatLimit: null,
    emailDomains: { allow: [], block: [] },
    passwordPolicy: DEFAULT_PASSWORD_POLICY,
    appKey: 'app_test',
    userCount: 0,
    usersRevision: 0,
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** The field errors of a draft, as `field:code` pairs; [] when the draft is valid. */
function problems(input: unknown, t: Tenant = tenant()): string[] {
  const result = checkDraft(t, input);
  return result.ok ? [] : result.errors.map((e) => `${e.field}:${e.code}`);
}

describe('identity keys', () => {
  it('folds case so that ALICE and alice are one identity', () => {
    expect(identityKey('ALICE@EXAMPLE.COM')).toBe('alice@example.com');
    expect(identityKey('Alice@Example.Com')).toBe(identityKey('alice@example.com'));
  });

  it('applies NFKC so that fullwidth letters equal their ASCII forms', () => {
    expect(identityKey('Ａｌｉｃｅ@Ｅｘａｍｐｌｅ.com')).toBe('alice@example.com');
  });

  it('applies full case folding: ß and SS are the same, and so are ligatures and their letters', () => {
    expect(identityKey('Straße')).toBe('strasse');
    expect(identityKey('STRASSE')).toBe(identityKey('straße'));
    expect(identityKey('ﬁona')).toBe('fiona');
  });

  it('makes composed and decomposed accents the same key', () => {
    expect(identityKey('Zoe\u0301')).toBe(identityKey('zoé'));
  });

  it('keeps distinct names distinct', () => {
    expect(identityKey('alice')).not.toBe(identityKey('alicia'));
  });

  it('finds control characters and broken UTF-16, and nothing in ordinary text', () => {
    expect(hasForbiddenCharacters('Ada\u0007')).toBe(true);
    expect(hasForbiddenCharacters('Ada\u0000')).toBe(true);
    expect(hasForbiddenCharacters('line\nbreak')).toBe(true);
    expect(hasForbiddenCharacters('\u0085next')).toBe(true);
    expect(hasForbiddenCharacters('bad\ud800')).toBe(true);
    expect(hasForbiddenCharacters('Zoë Ødegård 李')).toBe(false);
  });

  it('takes the local part before the last @', () => {
    expect(emailLocalPart('ada.lovelace@example.com')).toBe('ada.lovelace');
  });
});

describe('field validation of a user draft', () => {
  it('accepts a minimal draft and defaults the user name to the email', () => {
    const result = checkDraft(tenant(), { email: 'Ada@Example.com' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.draft.userName).toBe('Ada@Example.com');
    expect(result.draft.userNameKey).toBe('ada@example.com');
    expect(result.draft.emailKey).toBe('ada@example.com');
    expect(result.draft.approved).toBe(true);
    expect(result.draft.lockedOut).toBe(false);
  });

  it('formats the name from its parts when no formatted name is given', () => {
    const result = checkDraft(tenant(), { email: 'ada@example.com', name: { givenName: 'Ada', familyName: 'Lovelace' } });
    expect(result.ok && result.draft.name.formatted).toBe('Ada Lovelace');
  });

  it('reports a missing email as MISSING_REQUIRED_FIELD, not INVALID_FIELD', () => {
    expect(problems({})).toEqual(['email:MISSING_REQUIRED_FIELD']);
    expect(problems({ name: { givenName: 'Ada' } })).toEqual(['email:MISSING_REQUIRED_FIELD']);
  });

  it('reports a present but wrong email as INVALID_FIELD', () => {
    expect(problems({ email: 'not-an-email' })).toEqual(['email:INVALID_FIELD']);
    expect(problems({ email: 42 })).toEqual(['email:INVALID_FIELD']);
    expect(problems({ email: '' })).toEqual(['email:INVALID_FIELD']);
    expect(problems({ email: ' ada@example.com' })).toEqual(['email:INVALID_FIELD']);
  });

  it('accepts an email of 254 characters and refuses one longer than 255', () => {
    const long = `${'a'.repeat(64)}@${['b'.repeat(63), 'c'.repeat(63), 'd'.repeat(57), 'com'].join('.')}`;
    expect(long).toHaveLength(254);
    expect(problems({ email: long })).toEqual([]);
    const tooLong = `${'a'.repeat(64)}@${['b'.repeat(63), 'c'.repeat(63), 'd'.repeat(59), 'com'].join('.')}`;
    expect(tooLong).toHaveLength(256);
    expect(problems({ email: tooLong })).toEqual(['email:INVALID_FIELD']);
  });

  it('accepts by its quick check only addresses validator.js accepts, and leaves the rest to it', () => {
    const isEmail = (value: string) => validator.isEmail(value, { allow_ip_domain: false, require_tld: true });
    const sixtyFour = 'a'.repeat(64);
    const quick = ['ada@example.com', 'ada.lovelace+tag@mail.example.co.uk', 'a_b-c@x-y.io', `${sixtyFour}@${'b'.repeat(63)}.com`, 'A1@B2.ORG', 'ada@xn--bcher-kva.example'];
    for (const address of quick) {
      expect(isCommonEmail(address), address).toBe(true);
      expect(isEmail(address), address).toBe(true);
    }
    // Left to validator.js, whatever it answers: quoted, non-ASCII, odd punctuation, limits crossed.
    const others = [
      `${sixtyFour}a@example.com`, 'ada..l@example.com', '.ada@example.com', 'ada.@example.com', 'ada@-example.com', 'ada@example-.com',
      'ada@example.c', 'ada@example.123', 'ada@exa_mple.com', 'ada@example', 'ada@@example.com', 'a@b@example.com', '"ada"@example.com',
      'ada@[127.0.0.1]', 'ada@127.0.0.1', 'ädä@exämple.com', 'ada!#$%&*@example.com', 'ada @example.com', 'ada@example.com.',
      `ada@${'b'.repeat(64)}.com`, `ada@${['b'.repeat(63), 'c'.repeat(63), 'd'.repeat(63), 'e'.repeat(57)].join('.')}.com`, 'ada@ex\u0000ample.com',
      'ada@example.ｃｏｍ', '',
    ];
    for (const address of others) expect(isCommonEmail(address), address).toBe(false);
    // Every address the quick check takes is one validator.js takes: a sweep of short random strings.
    const alphabet = 'ab0_+-.@';
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 20_000; i++) {
      let address = '';
      for (let n = 3 + (next() % 10); n > 0; n--) address += alphabet[next() % alphabet.length];
      address += ['.com', '.io', '.c0m', ''][next() % 4];
      if (isCommonEmail(address)) expect(isEmail(address), address).toBe(true);
    }
  });

  it('finds NUL at any depth, in keys and values, and nothing in a draft without one', () => {
    expect(fieldsWithNul({ email: 'a@example.com', name: { givenName: 'Ada' }, roles: ['x', 'y'] })).toEqual([]);
    expect(fieldsWithNul({ email: 'a@example.com', name: { givenName: 'A\u0000da' }, roles: ['x', 'y\u0000'] })).toEqual(['name.givenName', 'roles.1']);
    expect(fieldsWithNul({ ['k\u0000']: 1 })).toEqual(['k\\u0000']);
    expect(fieldsWithNul('a\u0000', 'value')).toEqual(['value']);
  });

  it('refuses control characters in an email', () => {
    expect(problems({ email: 'ada\u0000@example.com' })).toEqual(['email:INVALID_FIELD']);
  });

  it('accepts names of 1 to 100 characters and refuses empty or longer ones', () => {
    expect(problems({ email: 'a@example.com', name: { givenName: 'A', familyName: 'x'.repeat(100) } })).toEqual([]);
    expect(problems({ email: 'a@example.com', name: { givenName: '' } })).toEqual(['name.givenName:INVALID_FIELD']);
    expect(problems({ email: 'a@example.com', name: { familyName: 'x'.repeat(101) } })).toEqual(['name.familyName:INVALID_FIELD']);
  });

  it('counts name length in characters, so 100 accented letters are accepted', () => {
    expect(problems({ email: 'a@example.com', name: { givenName: 'é'.repeat(100) } })).toEqual([]);
  });

  it('refuses control characters in names and user names', () => {
    expect(problems({ email: 'a@example.com', name: { givenName: 'Ada\u0007' } })).toEqual(['name.givenName:INVALID_FIELD']);
    expect(problems({ email: 'a@example.com', name: { familyName: 'Love\nlace' } })).toEqual(['name.familyName:INVALID_FIELD']);
    expect(problems({ email: 'a@example.com', userName: 'ada\u0000' })).toEqual(['userName:INVALID_FIELD']);
  });

  it('refuses names made only of white space', () => {
    expect(problems({ email: 'a@example.com', name: { givenName: '   ' } })).toEqual(['name.givenName:INVALID_FIELD']);
  });

  it('refuses unknown fields by name', () => {
    expect(problems({ email: 'a@example.com', nickname: 'x' })).toEqual(['nickname:INVALID_FIELD']);
  });

  it('refuses a draft that is not an object', () => {
    expect(problems(null)).not.toEqual([]);
    expect(problems('ada@example.com')).not.toEqual([]);
    expect(problems([{ email: 'a@example.com' }])).not.toEqual([]);
  });

  it('reports every bad field of a draft, not only the first', () => {
    expect(problems({ email: 'a@example.com', name: { givenName: 'A\u0001', familyName: 'B\u0002' } })).toEqual([
      'name.givenName:INVALID_FIELD',
      'name.familyName:INVALID_FIELD',
    ]);
  });

  it('checks the phone number format', () => {
    expect(problems({ email: 'a@example.com', phoneNumber: '+44 20 7946 0958' })).toEqual([]);
    expect(problems({ email: 'a@example.com', phoneNumber: 'call me' })).toEqual(['phoneNumber:INVALID_FIELD']);
  });

  it('refuses confirmPassword that differs from password with PASSWORD_MISMATCH', () => {
    expect(problems({ email: 'a@example.com', password: 'Tr0ub4dor&3x', confirmPassword: 'Tr0ub4dor&3y' })).toEqual(['confirmPassword:PASSWORD_MISMATCH']);
    expect(problems({ email: 'a@example.com', password: 'Tr0ub4dor&3x', confirmPassword: 'Tr0ub4dor&3x' })).toEqual([]);
  });

  it('needs a password when confirmPassword is given', () => {
    expect(problems({ email: 'a@example.com', confirmPassword: 'Tr0ub4dor&3x' })).toEqual(['password:MISSING_REQUIRED_FIELD']);
  });

  it('checks the password against the tenant policy', () => {
    expect(problems({ email: 'a@example.com', password: 'short' })).toEqual(['password:PASSWORD_TOO_WEAK']);
  });

  it('checks the email domain against the tenant rules', () => {
    const t = tenant({ emailDomains: { allow: ['example.com'], block: [] } });
    expect(problems({ email: 'a@example.org' }, t)).toEqual(['email:EMAIL_DOMAIN_RESTRICTED']);
    expect(problems({ email: 'a@example.com' }, t)).toEqual([]);
  });

  it('removes repeated role names', () => {
    const result = checkDraft(tenant(), { email: 'a@example.com', roles: ['editor', 'editor', 'viewer'] });
    expect(result.ok && result.draft.roles).toEqual(['editor', 'viewer']);
  });
});
