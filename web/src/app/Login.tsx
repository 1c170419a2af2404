import { useState, type FormEvent } from 'react';

import { api, ApiError, type User } from './api';

export function Login({ notice, onSignedIn }: { notice: string | null; onSignedIn: (user: User) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await api.login(username, password));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'The server could not be reached. Check your connection and try again.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <h1>Workshop</h1>
      {notice ? <p className="note" role="status">{notice}</p> : null}
      <form onSubmit={submit} aria-describedby={error ? 'login-error' : undefined}>
        <div className="field">
          <label htmlFor="username">Username or email</label>
          <input id="username" name="username" autoComplete="username" value={username}
            onChange={(e) => setUsername(e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input id="password" name="password" type="password" autoComplete="current-password" value={password}
            onChange={(e) => setPassword(e.target.value)} required />
        </div>
        {error ? <p id="login-error" className="error-text" role="alert">{error}</p> : null}
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
