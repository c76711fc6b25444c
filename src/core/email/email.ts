/**
 * The email a user receives when created: a welcome (the user has a password) or an
 * invitation (the user has none yet, or a generated one). Messages go to a transactional
 * outbox written with the user, and a sender delivers them later (see deliver-messages.ts).
 */

export const EMAIL_KINDS = ['welcome', 'invitation'] as const;
export type EmailKind = (typeof EMAIL_KINDS)[number];

/**
 * `pending`: waiting for its (next) attempt; `sending`: claimed by a sender until its lease
 * ends; `sent`: accepted by the SMTP server; `failed`: given up after the last attempt.
 */
/** `cancelled`: never to be sent, as the invitation it carried was revoked or its address is no longer the user's. */
export const MESSAGE_STATUSES = ['pending', 'sending', 'sent', 'failed', 'cancelled'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** Settings of the email side of the core, read once at start-up. */
export interface EmailSettings {
  /** The From header of every message, e.g. `Muster <no-reply@example.com>`. */
  from: string;
  /** How long an invitation may be redeemed, in hours. */
  invitationTtlHours: number;
  /** Where this service is reachable from a user's point of view; invitations link to it. */
  publicUrl: string;
}

export const DEFAULT_EMAIL_SETTINGS: EmailSettings = {
  from: 'Muster <no-reply@muster.invalid>',
  invitationTtlHours: 72,
  publicUrl: 'http://localhost:8080',
};

/** A message as it is written to the outbox, in the same transaction as its user. */
export interface NewEmailMessage {
  id: string;
  tenantId: string;
  userId: string;
  kind: EmailKind;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The RFC 5322 Message-ID, `<…@…>`, fixed once so that every attempt sends the same one. */
  messageId: string;
  createdAt: string;
  /**
   * The invitation token the bodies contain, or null. Kept only while the message is
   * undelivered, so that the stored copy can be cleaned of it once it has been sent.
   */
  secret: string | null;
}

/** An invitation: only the SHA-256 of its token is stored. */
export interface NewInvitation {
  id: string;
  tenantId: string;
  userId: string;
  tokenHash: string;
  expiresAt: string;
  createdAt: string;
}

/** What creating users adds to the outbox, written inside the users' own transaction. */
export interface EmailBatch {
  messages: NewEmailMessage[];
  invitations: NewInvitation[];
}

/** A message in the outbox as a tenant admin reads it. */
export interface EmailMessage {
  id: string;
  tenantId: string;
  userId: string | null;
  kind: EmailKind;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  status: MessageStatus;
  attempts: number;
  lastError: string | null;
  /** When a pending message is next due; null once sent or failed. */
  nextAttemptAt: string | null;
  createdAt: string;
  sentAt: string | null;
}

/** A message a sender has claimed: it alone may send it until `leaseUntil`. */
export interface ClaimedMessage extends Pick<NewEmailMessage, 'id' | 'from' | 'to' | 'subject' | 'text' | 'html' | 'messageId' | 'createdAt' | 'secret'> {
  /** Identifies this claim; marking the outcome needs it, so a stale sender cannot. */
  claim: string;
  /** Attempts so far, this one included. */
  attempts: number;
  /** Until when the claim is this sender's (ISO 8601). */
  leaseUntil: string;
}

/** A stored invitation with what redeeming it needs to know about its user. */
export interface InvitationRecord {
  id: string;
  tenantId: string;
  userId: string;
  userName: string;
  email: string;
  expiresAt: string;
  usedAt: string | null;
}

/** A tenant's own template for one kind of message (mustache syntax). */
export interface EmailTemplate {
  subject: string;
  text: string;
  html: string;
}

export interface StoredEmailTemplate extends EmailTemplate {
  tenantId: string;
  kind: EmailKind;
  updatedAt: string;
}

export interface MessageListQuery {
  status?: MessageStatus | undefined;
  userId?: string | undefined;
  /** Only messages older than this position (the cursor of the previous page). */
  beforeSeq?: number | undefined;
  limit: number;
}

/** A page of messages, newest first, with the position of each for the next cursor. */
export interface MessagePage {
  messages: (EmailMessage & { seq: number })[];
}
