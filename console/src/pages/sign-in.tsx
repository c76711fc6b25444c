import { useState, type FormEvent } from 'react';
import { useSessionState } from '../session.js';
import { Alert, Field, PageTitle } from '../ui.js';

export function SignInPage() {
  const { signIn, notice } = useSessionState();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setError(await signIn(token.trim()));
    } catch {
      setError('Muster could not be reached.');
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" className="sign-in">
      <PageTitle>Sign in to Muster Console</PageTitle>
      {notice && <Alert kind="info">{notice}</Alert>}
      <form onSubmit={submit} aria-label="Sign in">
        <Field
          label="API key"
          type="password"
          autoComplete="off"
          required
          value={token}
          onChange={(e) => setToken(e.target.value)}
          error={error ?? undefined}
          hint="A Muster API key token (mst_…) or the admin token. It is kept in this tab only and forgotten when you sign out or close the tab."
        />
        <button type="submit" className="primary" disabled={busy || token.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {error && <Alert>{error}</Alert>}
    </main>
  );
}
