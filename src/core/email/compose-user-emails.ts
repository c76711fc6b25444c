import { hash } from 'node:crypto';
import { yieldIfBusy } from '../event-loop.js';
import type { CoreDeps } from '../ports.js';
import type { Tenant } from '../tenants/tenant.js';
import type { User } from '../users/user.js';
import type { EmailBatch, EmailKind, EmailTemplate, NewEmailMessage, NewInvitation } from './email.js';
import { compileTemplate, DEFAULT_TEMPLATES, type TemplateView } from './template-rendering.js';

/** Invitation tokens carry a prefix so that a leaked one is recognisable as such. */
export const INVITATION_TOKEN_PREFIX = 'inv_';

/** How invitation tokens are stored: SHA-256, hex. The token has 256 random bits, so no slow hash is needed. */
export function hashInvitationToken(token: string): string {
  // The one-shot form: a quarter of the cost of a Hash object per token, over a batch of invitations.
  return hash('sha256', token, 'hex');
}

/** The domain part of a From address, for Message-IDs: `Muster <a@b.example>` → `b.example`. */
function messageIdDomain(from: string): string {
  const match = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from);
  return match?.[1] ?? 'muster.invalid';
}

/** A user just created, and whether they are invited (no password of their own) or welcomed. */
export interface CreatedUser {
  user: User;
  invite: boolean;
}

export interface UserEmailComposer {
  /** The messages (and invitations) for these users, ready to be written with them; lets the event loop turn while composing many. */
  compose(created: readonly CreatedUser[]): Promise<EmailBatch>;
}

/**
 * Loads what composing a tenant's messages needs (its templates) before the write
 * transaction; composing itself reads nothing, so it can run inside it.
 */
export async function prepareUserEmails(deps: Pick<CoreDeps, 'email' | 'clock' | 'ids'>, tenant: Tenant): Promise<UserEmailComposer> {
  const [welcome, invitation] = await Promise.all([deps.email.templates.get(tenant.id, 'welcome'), deps.email.templates.get(tenant.id, 'invitation')]);
  const templates: Record<EmailKind, EmailTemplate> = {
    welcome: welcome ?? DEFAULT_TEMPLATES.welcome,
    invitation: invitation ?? DEFAULT_TEMPLATES.invitation,
  };
  // Compiled once for the whole batch, not parsed and walked per message.
  const render: Record<EmailKind, (view: TemplateView) => EmailTemplate> = {
    welcome: compileTemplate(templates.welcome),
    invitation: compileTemplate(templates.invitation),
  };
  const { from, invitationTtlHours, publicUrl } = deps.email.settings;
  const acceptUrl = `${publicUrl.replace(/\/+$/, '')}/v1/invitations/accept`;
  const domain = messageIdDomain(from);

  return {
    async compose(created) {
      const now = deps.clock.now();
      const createdAt = now.toISOString();
      const expiresAt = new Date(now.getTime() + invitationTtlHours * 3_600_000).toISOString();
      const batch: EmailBatch = { messages: [], invitations: [] };
      for (const { user, invite } of created) {
        await yieldIfBusy();
        const view: TemplateView = {
          user: {
            id: user.id,
            number: user.number,
            userName: user.userName,
            email: user.email,
            givenName: user.name.givenName ?? '',
            familyName: user.name.familyName ?? '',
            displayName: user.name.formatted ?? user.userName,
            phoneNumber: user.phoneNumber ?? '',
          },
          tenant: { id: tenant.id, name: tenant.name },
        };
        let secret: string | null = null;
        if (invite) {
          secret = `${INVITATION_TOKEN_PREFIX}${deps.ids.secret(32)}`;
          const record: NewInvitation = {
            id: deps.ids.uuid(),
            tenantId: tenant.id,
            userId: user.id,
            tokenHash: hashInvitationToken(secret),
            expiresAt,
            createdAt,
          };
          batch.invitations.push(record);
          view.invitation = { token: secret, acceptUrl, expiresAt, validHours: invitationTtlHours };
        }
        const kind: EmailKind = invite ? 'invitation' : 'welcome';
        const rendered = render[kind](view);
        const id = deps.ids.uuid();
        const message: NewEmailMessage = {
          id,
          tenantId: tenant.id,
          userId: user.id,
          kind,
          from,
          to: user.email,
          ...rendered,
          messageId: `<${id}@${domain}>`,
          createdAt,
          secret,
        };
        batch.messages.push(message);
      }
      return batch;
    },
  };
}

/** The stored copy of a delivered message: the invitation token replaced wherever it appears. */
export function withoutSecret(message: { subject: string; text: string; html: string; secret: string | null }) {
  if (message.secret === null) return undefined;
  const hide = (value: string) => value.split(message.secret!).join('[invitation code removed after delivery]');
  return { subject: hide(message.subject), text: hide(message.text), html: hide(message.html) };
}
