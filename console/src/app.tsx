import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, Redirect, Route, Router, Switch, useLocation } from 'wouter';
import { AuditPage } from './pages/audit.js';
import { CatalogsPage } from './pages/catalogs.js';
import { ImportDetailPage, ImportsPage } from './pages/imports.js';
import { KeysPage } from './pages/keys.js';
import { OutboxPage } from './pages/outbox.js';
import { SettingsPage } from './pages/settings.js';
import { SignInPage } from './pages/sign-in.js';
import { TenantsPage } from './pages/tenants.js';
import { NewUserPage, UserDetailPage } from './pages/user-detail.js';
import { UsersPage } from './pages/users.js';
import { useSessionState, useSignedIn, type Role } from './session.js';

const NAV: { href: string; label: string; role: Role }[] = [
  { href: '/users', label: 'Users', role: 'reader' },
  { href: '/imports', label: 'Imports', role: 'reader' },
  { href: '/keys', label: 'API keys', role: 'tenant-admin' },
  { href: '/roles', label: 'Roles & catalogs', role: 'tenant-admin' },
  { href: '/settings', label: 'Settings', role: 'tenant-admin' },
  { href: '/audit', label: 'Audit log', role: 'tenant-admin' },
  { href: '/outbox', label: 'Email outbox', role: 'tenant-admin' },
  { href: '/tenants', label: 'Tenants', role: 'global-admin' },
];

export function App() {
  const { signedIn } = useSessionState();
  return <Router base="/console">{signedIn ? <Shell /> : <SignInPage />}</Router>;
}

function TenantSwitcher() {
  const { client, tenant, setTenant } = useSignedIn();
  const queries = useQueryClient();
  const tenants = useQuery({
    queryKey: ['tenants'],
    queryFn: async () => (await client.GET('/v1/tenants')).data?.tenants ?? [],
  });
  const ids = tenants.data?.map((t) => t.id) ?? [tenant];
  return (
    <label className="switcher">
      Tenant
      <select
        value={tenant}
        onChange={(e) => {
          setTenant(e.target.value);
          queries.clear();
        }}
      >
        {(ids.includes(tenant) ? ids : [tenant, ...ids]).map((id) => (
          <option key={id} value={id}>
            {id}
          </option>
        ))}
      </select>
    </label>
  );
}

function Shell() {
  const { session, tenant, can, signOut } = useSignedIn();
  const queries = useQueryClient();
  const [location] = useLocation();
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <div className="brand">Muster Console</div>
        <div className="who" aria-label="Signed in as">
          {can('global-admin') ? <TenantSwitcher /> : <span>Tenant <strong>{tenant}</strong></span>}
          <span>
            Role <strong>{session.role}</strong>
          </span>
          <button
            type="button"
            onClick={() => {
              queries.clear();
              signOut();
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <nav aria-label="Console">
        <ul>
          {NAV.filter((item) => can(item.role)).map((item) => (
            <li key={item.href}>
              <Link href={item.href} aria-current={location.startsWith(item.href) ? 'page' : undefined}>
                {item.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <Switch key={tenant}>
          <Route path="/users/new" component={NewUserPage} />
          <Route path="/users/:id">{(params) => <UserDetailPage id={params.id} />}</Route>
          <Route path="/users" component={UsersPage} />
          <Route path="/imports/:id">{(params) => <ImportDetailPage id={params.id} />}</Route>
          <Route path="/imports" component={ImportsPage} />
          {can('tenant-admin') && <Route path="/keys" component={KeysPage} />}
          {can('tenant-admin') && <Route path="/roles" component={CatalogsPage} />}
          {can('tenant-admin') && <Route path="/settings" component={SettingsPage} />}
          {can('tenant-admin') && <Route path="/audit" component={AuditPage} />}
          {can('tenant-admin') && <Route path="/outbox" component={OutboxPage} />}
          {can('global-admin') && <Route path="/tenants" component={TenantsPage} />}
          <Route>
            <Redirect to="/users" />
          </Route>
        </Switch>
      </main>
    </>
  );
}
