/**
 * The signed-in key: its token lives in sessionStorage only (gone on sign-out or when the tab
 * closes), and every call goes through the typed client generated from Muster's OpenAPI document.
 */
import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';
import { createMusterClient, type MusterClient, type Session } from '../../src/client/index.js';

const TOKEN_KEY = 'muster.token';

export type Role = Session['role'];
const RANK: Record<Role, number> = { reader: 1, 'user-manager': 2, 'tenant-admin': 3, 'global-admin': 4 };

export interface SignedIn {
  client: MusterClient;
  session: Session;
  token: string;
  /** The tenant the console is working in: the key's own, or the one a global admin chose. */
  tenant: string;
  setTenant(tenant: string): void;
  /** True when the key's role is at least `role`. */
  can(role: Role): boolean;
  signOut(): void;
}

interface Stored {
  token: string;
  session: Session;
  tenant: string;
}

const Context = createContext<{ signedIn: SignedIn | null; signIn(token: string): Promise<string | null>; notice: string | null } | null>(null);

export function clientFor(token: string, onUnauthorized?: () => void): MusterClient {
  const client = createMusterClient({ baseUrl: window.location.origin, token });
  // A key revoked (or expired) while signed in: sign out rather than fail page after page.
  if (onUnauthorized) client.use({ onResponse: ({ response }) => void (response.status === 401 && onUnauthorized()) });
  return client;
}

function readStored(): Stored | null {
  try {
    const raw = sessionStorage.getItem(TOKEN_KEY);
    return raw ? (JSON.parse(raw) as Stored) : null;
  } catch {
    return null;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [stored, setStored] = useState<Stored | null>(readStored);
  const [notice, setNotice] = useState<string | null>(null);

  const value = useMemo(() => {
    const save = (next: Stored | null) => {
      if (next) sessionStorage.setItem(TOKEN_KEY, JSON.stringify(next));
      else sessionStorage.removeItem(TOKEN_KEY);
      setStored(next);
    };
    const signedIn: SignedIn | null = stored
      ? {
          client: clientFor(stored.token, () => {
            setNotice('Muster no longer accepts this API key (it may have been revoked). Sign in again.');
            save(null);
          }),
          session: stored.session,
          token: stored.token,
          tenant: stored.tenant,
          setTenant: (tenant) => save({ ...stored, tenant }),
          can: (role) => RANK[stored.session.role] >= RANK[role],
          signOut: () => {
            setNotice(null);
            save(null);
          },
        }
      : null;
    return {
      signedIn,
      notice,
      /** Checks the key with GET /v1/session; answers an error message, or null once signed in. */
      async signIn(token: string): Promise<string | null> {
        const { data, response } = await clientFor(token).GET('/v1/session');
        if (!data) return response.status === 401 ? 'This API key is not valid.' : `Muster answered ${response.status}.`;
        setNotice(null);
        save({ token, session: data, tenant: data.tenant ?? 'default' });
        return null;
      },
    };
  }, [stored, notice]);

  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useSessionState() {
  const value = useContext(Context);
  if (!value) throw new Error('SessionProvider is missing');
  return value;
}

/** The signed-in key; only rendered inside the signed-in shell. */
export function useSignedIn(): SignedIn {
  const { signedIn } = useSessionState();
  if (!signedIn) throw new Error('not signed in');
  return signedIn;
}
