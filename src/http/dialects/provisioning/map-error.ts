import Type from 'typebox';
import type { ErrorCode, FieldError } from '../../../core/errors.js';

/** The seed's messages, word for word (seed 002, "Response Error Details"). */
export const SEED_MESSAGES = {
  email: 'Email address was not set or was invalid',
  name: 'FirstName must be set or LastName must be set',
  passwordMissing: 'Password must be set: Password was not set',
  emailInUse: 'EmailAddress In Use: The provided email address is already in use by another user',
  domainRestricted: 'Email Domain Restricted: The domain of the email address provided is restricted from signing up',
  passwordWeak: 'Password too weak: The password provided does not meet complexity requirements',
  notAuthorized: 'Not Authorized: The token is invalid, the header is missing, or the user is inactive',
  seats: 'Company Seat Count Exceeded: No available seats are available in the specified company',
  notAdmin: 'Not A Business Admin: The user attempting to execute this request is not a company administrator',
  onlyGlobalAdmin: 'Not A Business Admin: only global administrator is able to create another admin',
} as const;

/**
 * The provisioning dialect's status for each domain error code, and the seed's message for
 * it when the seed has one (undefined: Muster's own message is used).
 */
export function provisioningError(code: ErrorCode): { status: number; message: string | undefined } {
  switch (code) {
    case 'PASSWORD_TOO_WEAK':
      return { status: 400, message: SEED_MESSAGES.passwordWeak };
    case 'EMAIL_DOMAIN_RESTRICTED':
      return { status: 400, message: SEED_MESSAGES.domainRestricted };
    // The seed lists a duplicate email as a 400. The user name is the email in this dialect,
    // so a user name taken by a user created elsewhere is the same conflict.
    case 'DUPLICATE_EMAIL':
    case 'DUPLICATE_USERNAME':
      return { status: 400, message: SEED_MESSAGES.emailInUse };
    // Which message depends on the field (see provisioningMessage).
    case 'MISSING_REQUIRED_FIELD':
    case 'INVALID_FIELD':
    case 'MALFORMED_JSON':
    case 'PASSWORD_MISMATCH':
    case 'UNKNOWN_REFERENCE':
    case 'INVITATION_INVALID':
      return { status: 400, message: undefined };
    case 'UNAUTHORIZED':
      return { status: 401, message: SEED_MESSAGES.notAuthorized };
    case 'SEAT_LIMIT_EXCEEDED':
      return { status: 402, message: SEED_MESSAGES.seats };
    case 'FORBIDDEN':
      return { status: 403, message: SEED_MESSAGES.notAdmin };
    case 'ADMIN_ROLE_FORBIDDEN':
      return { status: 403, message: SEED_MESSAGES.onlyGlobalAdmin };
    // Cases the seed does not list answer with the native API's status.
    case 'NOT_FOUND':
      return { status: 404, message: undefined };
    case 'CONFLICT':
      return { status: 409, message: undefined };
    case 'INVITATION_EXPIRED':
    case 'INVITATION_USED':
      return { status: 410, message: undefined };
    case 'IDEMPOTENCY_KEY_REUSED':
      return { status: 422, message: undefined };
    case 'SERVICE_BUSY':
      return { status: 503, message: undefined };
    case 'INSUFFICIENT_STORAGE':
      return { status: 507, message: undefined };
    case 'PRECONDITION_FAILED':
      return { status: 412, message: undefined };
    case 'PAYLOAD_TOO_LARGE':
    case 'BATCH_TOO_LARGE':
      return { status: 413, message: undefined };
    case 'UNSUPPORTED_MEDIA_TYPE':
      return { status: 415, message: undefined };
    case 'PRECONDITION_REQUIRED':
      return { status: 428, message: undefined };
    case 'RATE_LIMIT_EXCEEDED':
      return { status: 429, message: undefined };
    case 'SERVER_ERROR':
      return { status: 500, message: undefined };
    default: {
      const unhandled: never = code;
      throw new Error(`unmapped error code ${String(unhandled)}`);
    }
  }
}

/** The message of one field error as the seed words it; `error.field` is already the vendor's field name. */
export function provisioningMessage(error: FieldError): string {
  if (error.field === 'EmailAddress' && (error.code === 'MISSING_REQUIRED_FIELD' || error.code === 'INVALID_FIELD')) return SEED_MESSAGES.email;
  return provisioningError(error.code).message ?? error.message;
}

export const ProvisioningUser = Type.Object({
  Id: Type.Optional(Type.String({ format: 'uuid', description: 'Absent for a simulated user.' })),
  EmailAddress: Type.String(),
  FirstName: Type.Optional(Type.String()),
  LastName: Type.Optional(Type.String()),
  Disabled: Type.Boolean(),
  Roles: Type.Array(Type.Integer(), { description: 'The role numbers the user holds (1 AccountOwner … 6 EDiscoveryAdmin).' }),
  AccountType: Type.Integer({ description: '3 (PaidBusiness), or 16 (PendingBusiness) for a user awaiting approval.' }),
  Status: Type.Integer({ description: '1 Disabled, 2 Enabled, 4 Pending Activation.' }),
  CreatedDateUtc: Type.Optional(Type.String({ description: 'As the vendor writes dates: `/Date(milliseconds since the epoch)/`. Absent for a simulated user.' })),
});

export const ProvisioningErrorSchema = Type.Object({
  Message: Type.String({ description: "The seed's message for the first failure, e.g. `EmailAddress In Use: The provided email address is already in use by another user`." }),
  Code: Type.String({ description: "Muster's stable error code, e.g. DUPLICATE_EMAIL." }),
  Errors: Type.Array(
    Type.Object({
      Index: Type.Integer({ minimum: 0, description: 'Position of the user in the request (0-based).' }),
      EmailAddress: Type.Optional(Type.String()),
      Field: Type.String(),
      Code: Type.String(),
      Message: Type.String({ description: "The seed's message." }),
      Detail: Type.String({ description: "Muster's precise reason." }),
    }),
    { description: 'Every user that was not created, and why. Empty when the whole request was refused.' },
  ),
  Users: Type.Array(ProvisioningUser, { description: 'The users that were created nonetheless (with modifier=simulate: that would have been created).' }),
  RequestId: Type.String(),
});
