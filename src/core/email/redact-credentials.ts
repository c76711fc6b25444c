/**
 * What an SMTP server says back may quote what it was sent: an AUTH command with its
 * base64 credentials, a URL with a user and password, a `password=` parameter. Before such
 * a reply is stored (a message's `lastError`) or logged, the credentials in it are replaced
 * by `[redacted]`.
 */
const REDACTED = '[redacted]';

const RULES: [RegExp, string | ((...groups: string[]) => string)][] = [
  // AUTH PLAIN <base64>, AUTH LOGIN <base64>, AUTH XOAUTH2 <token>, AUTH CRAM-MD5 <response>: keep the mechanism.
  [/\b(AUTH\s+[A-Z0-9_-]+)(\s+)\S+/gi, (_m, command: string, space: string) => `${command}${space}${REDACTED}`],
  // scheme://user:password@host → scheme://[redacted]@host
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, (_m, scheme: string) => `${scheme}${REDACTED}@`],
  // password=…, pass: …, pwd=…, secret=…, token=…, api_key=…
  [/\b((?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|auth[_-]?token)\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi, (_m, name: string) => `${name}${REDACTED}`],
  // Bearer / Basic credentials.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, (_m, scheme: string) => `${scheme} ${REDACTED}`],
  // A bare base64 word of 12+ characters that mixes cases and digits or padding: an AUTH
  // exchange's payload echoed back (`334 VXNlcm5hbWU6`, `dXNlcjpwYXNzd29yZA==`). Queue ids and
  // status codes (upper-case hex, digits, dotted numbers) do not look like this.
  [/(?<![A-Za-z0-9+/=])(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/=]*[0-9+/=])[A-Za-z0-9+/]{12,}={0,2}(?![A-Za-z0-9+/=])/g, REDACTED],
];

/** `text` with the credentials it may quote replaced by `[redacted]`. */
export function redactCredentials(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement as never);
  return out;
}
