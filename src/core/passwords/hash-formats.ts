/**
 * The password-hash encodings Muster accepts from a system it replaces, how each is parsed,
 * and the bounds that keep a hash from turning one verification into a denial of service.
 *
 * | algorithm | encoding |
 * |---|---|
 * | argon2id, argon2i | PHC: `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (`v=16` or no `v=` for version 1.0) |
 * | bcrypt | `$2a$`, `$2b$` or `$2y$`, two-digit cost, 22 salt and 31 hash characters (bcrypt's base64) |
 * | scrypt | passlib/PHC: `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>` |
 * | PBKDF2-SHA256/512 | passlib/PHC: `$pbkdf2-sha256$<iterations>$<salt>$<hash>` or `$pbkdf2-sha256$i=<iterations>[,l=<length>]$<salt>$<hash>`; Django: `pbkdf2_sha256$<iterations>$<salt text>$<hash>` |
 *
 * `<salt>` and `<hash>` are base64 in the standard alphabet or passlib's (`.` for `+`), with
 * or without padding; a Django salt is the text itself. Nothing here ever puts a hash or a
 * part of one into a message.
 */
import { ARGON2ID_PARAMS } from './argon2-params.js';

export type HashAlgorithm = 'argon2id' | 'argon2i' | 'bcrypt' | 'scrypt' | 'pbkdf2-sha256' | 'pbkdf2-sha512';

export type ParsedHash =
  | { algorithm: 'argon2id' | 'argon2i'; version: number; memoryCost: number; timeCost: number; parallelism: number; salt: Buffer; hash: Buffer }
  | { algorithm: 'bcrypt'; cost: number }
  | { algorithm: 'scrypt'; logN: number; r: number; p: number; salt: Buffer; hash: Buffer }
  | { algorithm: 'pbkdf2-sha256' | 'pbkdf2-sha512'; iterations: number; salt: Buffer; hash: Buffer };

/**
 * The most one hash may ask of the server: each bound keeps one verification near a second
 * or less on one core, so that a hostile or mistaken import cannot stall logins.
 */
export const HASH_LIMITS = {
  maxEncodedLength: 512,
  /** Bytes of derived key (the hash part); shorter ones are too easy to collide with. */
  minHashBytes: 16,
  maxHashBytes: 64,
  minSaltBytes: 8,
  maxSaltBytes: 64,
  argon2: { maxMemoryKiB: 262_144, maxTimeCost: 16, maxParallelism: 16, maxMemoryTimesPasses: 1_048_576 },
  bcrypt: { minCost: 4, maxCost: 14 },
  /** N = 2^ln; memory is 128·N·r bytes, work N·r·p. */
  scrypt: { maxLogN: 20, maxR: 32, maxP: 16, maxMemoryBytes: 256 * 1024 * 1024, maxWork: 2 ** 22 },
  pbkdf2: { maxIterationsSha256: 5_000_000, maxIterationsSha512: 2_000_000 },
} as const;

export type ParseResult = { ok: true; hash: ParsedHash } | { ok: false; message: string };

const fail = (message: string): ParseResult => ({ ok: false, message });

/** Base64 in the standard alphabet or passlib's adapted one (`.` for `+`), padding optional. */
function decodeBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/.]*={0,2}$/.test(text)) return undefined;
  let bare = text.endsWith('=') ? text.replace(/=+$/, '') : text;
  if (bare.includes('.')) bare = bare.replaceAll('.', '+');
  if (bare.length % 4 === 1) return undefined;
  return Buffer.from(bare, 'base64');
}

/** `name=value` pairs separated by commas, each value a decimal integer; undefined when malformed. */
function numericParams(text: string): Map<string, number> | undefined {
  const params = new Map<string, number>();
  for (const part of text.split(',')) {
    const match = /^([a-z]{1,2})=(\d{1,10})$/.exec(part);
    if (!match || params.has(match[1]!)) return undefined;
    params.set(match[1]!, Number(match[2]));
  }
  return params;
}

function saltAndHash(saltText: string, hashText: string, name: string): { salt: Buffer; hash: Buffer } | string {
  const salt = decodeBase64(saltText);
  const hash = decodeBase64(hashText);
  if (!salt || !hash) return `The salt and hash of a ${name} hash must be base64.`;
  const { minSaltBytes, maxSaltBytes, minHashBytes, maxHashBytes } = HASH_LIMITS;
  if (salt.length < minSaltBytes || salt.length > maxSaltBytes) return `The salt of a ${name} hash must be ${minSaltBytes} to ${maxSaltBytes} bytes.`;
  if (hash.length < minHashBytes || hash.length > maxHashBytes) return `The hash of a ${name} hash must be ${minHashBytes} to ${maxHashBytes} bytes.`;
  return { salt, hash };
}

function parseArgon2(encoded: string): ParseResult {
  const match = /^\$(argon2id|argon2i)\$(?:v=(\d{1,3})\$)?([^$]*)\$([^$]*)\$([^$]*)$/.exec(encoded);
  if (!match) return fail('An argon2 hash must read $argon2id$v=19$m=…,t=…,p=…$salt$hash.');
  const algorithm = match[1] as 'argon2id' | 'argon2i';
  const version = match[2] === undefined ? 16 : Number(match[2]);
  if (version !== 16 && version !== 19) return fail('An argon2 hash must be version 16 or 19.');
  // Nearly every argon2 hash gives its parameters as m, t, p in that order: read at once.
  const inOrder = /^m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,10})$/.exec(match[3]!);
  const params = inOrder ? undefined : numericParams(match[3]!);
  const m = inOrder ? Number(inOrder[1]) : params?.get('m');
  const t = inOrder ? Number(inOrder[2]) : params?.get('t');
  const p = inOrder ? Number(inOrder[3]) : params?.get('p');
  if (!inOrder && (!params || params.size !== 3)) return fail('An argon2 hash must give exactly its parameters m, t and p.');
  if (m === undefined || t === undefined || p === undefined) return fail('An argon2 hash must give exactly its parameters m, t and p.');
  const limits = HASH_LIMITS.argon2;
  if (p < 1 || p > limits.maxParallelism) return fail(`argon2 parallelism must be 1 to ${limits.maxParallelism}.`);
  if (t < 1 || t > limits.maxTimeCost) return fail(`argon2 time cost must be 1 to ${limits.maxTimeCost}.`);
  if (m < 8 * p || m > limits.maxMemoryKiB) return fail(`argon2 memory must be 8·p to ${limits.maxMemoryKiB} KiB.`);
  if (m * t > limits.maxMemoryTimesPasses) return fail(`argon2 memory times passes may be at most ${limits.maxMemoryTimesPasses} KiB.`);
  const parts = saltAndHash(match[4]!, match[5]!, 'argon2');
  if (typeof parts === 'string') return fail(parts);
  return { ok: true, hash: { algorithm, version, memoryCost: m, timeCost: t, parallelism: p, ...parts } };
}

function parseBcrypt(encoded: string): ParseResult {
  const match = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/.exec(encoded);
  if (!match) return fail('A bcrypt hash must read $2b$<cost>$ followed by 53 characters of bcrypt base64.');
  const cost = Number(match[1]);
  const { minCost, maxCost } = HASH_LIMITS.bcrypt;
  if (cost < minCost || cost > maxCost) return fail(`bcrypt cost must be ${minCost} to ${maxCost}.`);
  return { ok: true, hash: { algorithm: 'bcrypt', cost } };
}

function parseScrypt(encoded: string): ParseResult {
  const match = /^\$scrypt\$([^$]*)\$([^$]*)\$([^$]*)$/.exec(encoded);
  if (!match) return fail('A scrypt hash must read $scrypt$ln=…,r=…,p=…$salt$hash.');
  const params = numericParams(match[1]!);
  const logN = params?.get('ln');
  const r = params?.get('r');
  const p = params?.get('p');
  if (!params || params.size !== 3 || logN === undefined || r === undefined || p === undefined) {
    return fail('A scrypt hash must give exactly its parameters ln, r and p.');
  }
  const limits = HASH_LIMITS.scrypt;
  if (logN < 1 || logN > limits.maxLogN) return fail(`scrypt ln must be 1 to ${limits.maxLogN}.`);
  if (r < 1 || r > limits.maxR) return fail(`scrypt r must be 1 to ${limits.maxR}.`);
  if (p < 1 || p > limits.maxP) return fail(`scrypt p must be 1 to ${limits.maxP}.`);
  if (128 * 2 ** logN * r > limits.maxMemoryBytes) return fail(`scrypt may use at most ${limits.maxMemoryBytes / 1024 / 1024} MiB (128·2^ln·r bytes).`);
  if (2 ** logN * r * p > limits.maxWork) return fail(`scrypt work 2^ln·r·p may be at most 2^${Math.log2(limits.maxWork)}.`);
  const parts = saltAndHash(match[2]!, match[3]!, 'scrypt');
  if (typeof parts === 'string') return fail(parts);
  return { ok: true, hash: { algorithm: 'scrypt', logN, r, p, ...parts } };
}

function checkIterations(algorithm: 'pbkdf2-sha256' | 'pbkdf2-sha512', iterations: number): string | undefined {
  const max = algorithm === 'pbkdf2-sha256' ? HASH_LIMITS.pbkdf2.maxIterationsSha256 : HASH_LIMITS.pbkdf2.maxIterationsSha512;
  return iterations < 1 || iterations > max ? `${algorithm} iterations must be 1 to ${max}.` : undefined;
}

function parsePbkdf2(encoded: string): ParseResult {
  const match = /^\$pbkdf2-(sha256|sha512)\$([^$]*)\$([^$]*)\$([^$]*)$/.exec(encoded);
  if (!match) return fail('A PBKDF2 hash must read $pbkdf2-sha256$i=…$salt$hash (or passlib\'s $pbkdf2-sha256$<iterations>$salt$hash).');
  const algorithm = `pbkdf2-${match[1]}` as 'pbkdf2-sha256' | 'pbkdf2-sha512';
  let iterations: number;
  let length: number | undefined;
  if (/^\d{1,10}$/.test(match[2]!)) {
    iterations = Number(match[2]);
  } else {
    const params = numericParams(match[2]!);
    const i = params?.get('i');
    length = params?.get('l');
    if (!params || i === undefined || params.size !== (length === undefined ? 1 : 2)) return fail('A PBKDF2 hash must give its iterations as i=… (and optionally its length as l=…).');
    iterations = i;
  }
  const problem = checkIterations(algorithm, iterations);
  if (problem) return fail(problem);
  const parts = saltAndHash(match[3]!, match[4]!, 'PBKDF2');
  if (typeof parts === 'string') return fail(parts);
  if (length !== undefined && length !== parts.hash.length) return fail('The l= of a PBKDF2 hash must be the length of its hash in bytes.');
  return { ok: true, hash: { algorithm, iterations, ...parts } };
}

/** Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`: the salt is used as text. */
function parseDjangoPbkdf2(encoded: string): ParseResult {
  const match = /^pbkdf2_(sha256|sha512)\$(\d{1,10})\$([A-Za-z0-9./+_-]{1,64})\$([A-Za-z0-9+/]+={0,2})$/.exec(encoded);
  if (!match) return fail('A Django PBKDF2 hash must read pbkdf2_sha256$<iterations>$<salt>$<base64 hash>.');
  const algorithm = `pbkdf2-${match[1]}` as 'pbkdf2-sha256' | 'pbkdf2-sha512';
  const iterations = Number(match[2]);
  const problem = checkIterations(algorithm, iterations);
  if (problem) return fail(problem);
  const hash = decodeBase64(match[4]!);
  const { minHashBytes, maxHashBytes } = HASH_LIMITS;
  if (!hash || hash.length < minHashBytes || hash.length > maxHashBytes) return fail(`The hash of a PBKDF2 hash must be ${minHashBytes} to ${maxHashBytes} bytes of base64.`);
  return { ok: true, hash: { algorithm, iterations, salt: Buffer.from(match[3]!, 'utf8'), hash } };
}

/**
 * Parses and bounds-checks an encoded password hash. The message of a failure names what is
 * wrong with the format, never any of the hash's own characters.
 */
export function parsePasswordHash(encoded: string): ParseResult {
  if (encoded.length > HASH_LIMITS.maxEncodedLength) return fail(`A password hash is at most ${HASH_LIMITS.maxEncodedLength} characters.`);
  if (encoded.startsWith('$argon2')) return parseArgon2(encoded);
  if (encoded.startsWith('$2')) return parseBcrypt(encoded);
  if (encoded.startsWith('$scrypt$')) return parseScrypt(encoded);
  if (encoded.startsWith('$pbkdf2-')) return parsePbkdf2(encoded);
  if (encoded.startsWith('pbkdf2_')) return parseDjangoPbkdf2(encoded);
  return fail('Unsupported password hash: use argon2id or argon2i (PHC), bcrypt ($2a$, $2b$, $2y$), scrypt ($scrypt$) or PBKDF2-SHA256/512 ($pbkdf2-sha256$).');
}

/**
 * Whether a stored hash should be replaced by a fresh argon2id hash with Muster's current
 * parameters the next time its password is known: any other algorithm, an old version, less
 * memory, less total work, or a shorter salt or output than Muster makes today.
 */
export function needsRehash(encoded: string): boolean {
  const parsed = parsePasswordHash(encoded);
  if (!parsed.ok) return true;
  const h = parsed.hash;
  if (h.algorithm !== 'argon2id') return true;
  return (
    h.version < 19 ||
    h.memoryCost < ARGON2ID_PARAMS.memoryCost ||
    h.memoryCost * h.timeCost < ARGON2ID_PARAMS.memoryCost * ARGON2ID_PARAMS.timeCost ||
    h.salt.length < 16 ||
    h.hash.length < 32
  );
}
