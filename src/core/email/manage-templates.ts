import type { Actor } from '../credentials/actor.js';
import type { CoreDeps } from '../ports.js';
import { invalidInput } from '../tenants/create-tenant.js';
import { loadTenant } from '../tenants/load-tenant.js';
import type { EmailKind, EmailTemplate } from './email.js';
import { checkTemplate, DEFAULT_TEMPLATES } from './template-rendering.js';

/** A tenant's template of one kind as it is in force: its own, or the default. */
export interface EffectiveTemplate extends EmailTemplate {
  kind: EmailKind;
  /** False when the tenant uses the built-in default. */
  custom: boolean;
  updatedAt: string | null;
}

type Deps = Pick<CoreDeps, 'tenants' | 'email' | 'clock'>;

export async function getEmailTemplate(deps: Deps, actor: Actor, tenantId: string, kind: EmailKind): Promise<EffectiveTemplate> {
  await loadTenant(deps.tenants, actor, 'email:configure', tenantId);
  const own = await deps.email.templates.get(tenantId, kind);
  if (!own) return { kind, ...DEFAULT_TEMPLATES[kind], custom: false, updatedAt: null };
  return { kind, subject: own.subject, text: own.text, html: own.html, custom: true, updatedAt: own.updatedAt };
}

/** Sets a tenant's template of one kind; returns it and whether it replaced the default. */
export async function putEmailTemplate(deps: Deps, actor: Actor, tenantId: string, kind: EmailKind, input: unknown): Promise<{ template: EffectiveTemplate; created: boolean }> {
  await loadTenant(deps.tenants, actor, 'email:configure', tenantId);
  const checked = checkTemplate(input);
  if (!checked.ok) throw invalidInput(checked.errors);
  const updatedAt = deps.clock.now().toISOString();
  const created = await deps.email.templates.put({ tenantId, kind, ...checked.template, updatedAt });
  return { template: { kind, ...checked.template, custom: true, updatedAt }, created };
}

/** Puts the default back; answers the template now in force. */
export async function resetEmailTemplate(deps: Deps, actor: Actor, tenantId: string, kind: EmailKind): Promise<EffectiveTemplate> {
  await loadTenant(deps.tenants, actor, 'email:configure', tenantId);
  await deps.email.templates.delete(tenantId, kind);
  return { kind, ...DEFAULT_TEMPLATES[kind], custom: false, updatedAt: null };
}
