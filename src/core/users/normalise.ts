/**
 * The identity key of a user name or email: Unicode NFKC, then full case folding, so that
 * "Ａｌｉｃｅ@Example.com", "alice@example.com" and "ALICE@EXAMPLE.COM" are one identity.
 * Upper-casing before lower-casing applies the expansions of full case folding
 * (ß → ss, ﬁ → fi) that `toLowerCase` alone would miss; the final NFKC keeps the key stable.
 */
export function identityKey(value: string): string {
  return value.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
}

/** True for strings carrying control characters or unpaired surrogates (broken UTF-16). */
export function hasForbiddenCharacters(value: string): boolean {
  return /\p{Cc}/u.test(value) || !value.isWellFormed();
}

/** The part of an email address before its last `@`. */
export function emailLocalPart(email: string): string {
  return email.slice(0, email.lastIndexOf('@'));
}
