import type { EmailDomainRules } from './tenant.js';

/** True when `domain` is `rule` or one of its subdomains (rule `example.com` covers `eu.example.com`). */
function covers(rule: string, domain: string): boolean {
  const r = rule.toLowerCase().replace(/^\.+/, '');
  return domain === r || domain.endsWith(`.${r}`);
}

/**
 * Whether an email's domain may sign up in a tenant: not on the block-list, and on the
 * allow-list when the tenant has one.
 */
export function isEmailDomainAllowed(rules: EmailDomainRules, email: string): boolean {
  const at = email.lastIndexOf('@');
  const domain = email.slice(at + 1).toLowerCase();
  if (rules.block.some((rule) => covers(rule, domain))) return false;
  if (rules.allow.length > 0 && !rules.allow.some((rule) => covers(rule, domain))) return false;
  return true;
}
