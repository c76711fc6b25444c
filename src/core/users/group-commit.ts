import { MAX_BATCH_SIZE } from './plan-creates.js';
import type { PartWritten, UsersWriter, WritePart, WriteResult } from './write-users.js';

/** The most rows one group commit writes; the calls past it wait for the next. */
export const MAX_GROUP_ROWS = MAX_BATCH_SIZE;

interface Waiting {
  part: WritePart;
  resolve: (result: WriteResult) => void;
  reject: (error: unknown) => void;
}

/** Whether a part needs nothing of its transaction but its writes, and so may share one. */
function groupable(part: WritePart): boolean {
  return !part.atomic && part.expectedRevision === undefined && part.beforeCommit === undefined;
}

/** The result of one part of a group's write, as if it had been written alone. */
function resultOf(group: WriteResult, written: PartWritten): WriteResult {
  return group.decision === 'commit'
    ? { decision: 'commit', usersRevision: group.usersRevision, parts: [written] }
    : { decision: 'rollback', staleRevision: group.staleRevision, parts: [written] };
}

/**
 * Group commit, per tenant, around a writer: a call arriving while one of the same tenant is
 * being written waits, and all those waiting are then written together in one transaction —
 * one insert, one seat count, one audit insert, one commit — instead of one transaction each,
 * which on PostgreSQL would also queue on the tenant row's lock. Each call still gets its own
 * outcome. Calls that are atomic, name an expected revision or bring writes of their own go
 * straight to the writer, alone.
 *
 * A group whose write fails wrote nothing; each of its calls is then written again alone, so
 * that one call's fault (a role deleted since its references were checked, a message that
 * cannot be written) fails only that call.
 */
export function groupCommit(writer: UsersWriter, maxRows: number = MAX_GROUP_ROWS): UsersWriter {
  const waiting = new Map<string, Waiting[]>();
  const writing = new Set<string>();

  async function drain(tenantId: string): Promise<void> {
    try {
      for (;;) {
        const queue = waiting.get(tenantId);
        if (!queue || queue.length === 0) break;
        let rows = 0;
        let take = 0;
        while (take < queue.length && (take === 0 || rows + queue[take]!.part.rows.length <= maxRows)) rows += queue[take++]!.part.rows.length;
        const group = queue.splice(0, take);
        if (queue.length === 0) waiting.delete(tenantId);
        if (group.length === 1) {
          await writer.write(tenantId, [group[0]!.part]).then(group[0]!.resolve, group[0]!.reject);
          continue;
        }
        let result: WriteResult;
        try {
          result = await writer.write(tenantId, group.map((w) => w.part));
        } catch {
          // The group wrote nothing: each call is written again alone, and only those that fail alone fail.
          for (const w of group) await writer.write(tenantId, [w.part]).then(w.resolve, w.reject);
          continue;
        }
        group.forEach((w, i) => w.resolve(resultOf(result, result.parts[i]!)));
      }
    } finally {
      writing.delete(tenantId);
    }
  }

  return {
    write(tenantId, parts) {
      if (parts.length !== 1 || !groupable(parts[0]!)) return writer.write(tenantId, parts);
      const part = parts[0]!;
      return new Promise((resolve, reject) => {
        const queue = waiting.get(tenantId);
        if (queue) queue.push({ part, resolve, reject });
        else waiting.set(tenantId, [{ part, resolve, reject }]);
        if (!writing.has(tenantId)) {
          // The first to arrive waits one turn of the event loop, so that the requests already
          // read from their sockets in this turn join its group instead of forming the next one.
          writing.add(tenantId);
          setImmediate(() => void drain(tenantId));
        }
      });
    },
  };
}
