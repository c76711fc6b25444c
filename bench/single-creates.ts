import { availableParallelism } from 'node:os';
import autocannon from 'autocannon';
import { BENCH_ADMIN_TOKEN, post, type LoopFigures, type RunningMuster } from './server-process.js';

export interface LoadFigures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  connections: number;
  seconds: number;
  created: number;
  errors: number;
  non2xx: number;
  loop: LoopFigures;
}

/**
 * Single creates (POST /v1/tenants/{t}/users), each with a new email, from `connections`
 * concurrent connections for `seconds`, with autocannon.
 */
export async function benchSingleCreates(
  muster: RunningMuster,
  options: { connections: number; seconds: number; withPassword: boolean },
): Promise<LoadFigures> {
  const tenant = `load-${Date.now().toString(36)}-${options.withPassword ? 'pw' : 'np'}`;
  await post(muster.baseUrl, '/v1/tenants', { id: tenant });
  let n = 0;
  const run = Date.now().toString(36);
  await muster.loop();
  const result = await autocannon({
    url: `${muster.baseUrl}/v1/tenants/${tenant}/users?notify=false`,
    method: 'POST',
    connections: options.connections,
    duration: options.seconds,
    headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => {
          const i = n++;
          const body = {
            email: `user${i}.${run}@example.com`,
            name: { givenName: 'Load', familyName: `User ${i}` },
            ...(options.withPassword && { password: `Unusual-passphrase-${i}-${run}` }),
          };
          return { ...request, body: JSON.stringify(body) };
        },
      },
    ],
  });
  const loop = await muster.loop();
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    connections: options.connections,
    seconds: options.seconds,
    created: result['2xx'],
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    loop,
  };
}

/** The hash bound's concurrency: as many requests in flight as cores that hash. */
export function hashBoundConcurrency(): number {
  return availableParallelism();
}
