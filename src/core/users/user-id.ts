/**
 * What a user id can look like. Ids are generated UUIDs; anything with other characters
 * names no user and is answered NOT_FOUND without a query (PostgreSQL refuses NUL in text).
 */
const USER_ID = /^[A-Za-z0-9-]{1,64}$/;

export function isUserId(value: string): boolean {
  return USER_ID.test(value);
}
