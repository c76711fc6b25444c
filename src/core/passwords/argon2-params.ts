/** OWASP's recommended argon2id parameters: 19 MiB of memory, 2 iterations, 1 lane. */
export const ARGON2ID_PARAMS = {
  algorithm: 2, // Algorithm.Argon2id (a const enum, which isolated modules cannot read)
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;
