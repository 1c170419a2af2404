import { useEffect, useRef, useState, type FormEvent } from 'react';

import { HttpError } from 'workshop-data-react';
import { api, type User } from './api';

function SignInForm({ onSignedIn }: { onSignedIn: (user: User) => void }) {
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
      setError(err instanceof HttpError ? err.message : 'The server could not be reached. Check your connection and try again.');
    } finally {
      setBusy(false);
    }
  };

  return (
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
  );
}

export function Login({ onSignedIn }: { onSignedIn: (user: User) => void }) {
  return (
    <main className="login">
      <h1>Workshop</h1>
      <SignInForm onSignedIn={onSignedIn} />
    </main>
  );
}

/**
 * The session ended while a page was open: sign in again over it (a modal dialog), so the page,
 * and what it has not saved yet, stays where it is.
 */
export function SignInAgain({ onSignedIn }: { onSignedIn: (user: User) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, []);
  return (
    // Escape must not close it: the page cannot save until someone signs in.
    <dialog ref={dialog} className="dialog login" aria-labelledby="sign-in-again-title" data-testid="sign-in-again"
      onCancel={(event) => event.preventDefault()}>
      <h2 id="sign-in-again-title">Sign in again</h2>
      <p>
        Your session has ended. Changes made since then are not saved yet; sign in to save them.
      </p>
      <SignInForm onSignedIn={onSignedIn} />
    </dialog>
  );
}
