import { useCallback, useEffect, useState } from 'react';

import { clearJournal } from 'workshop-data-react';
import { api, ApiError, type User } from './api';
import { Login } from './Login';
import { Shell } from './Shell';
import { forget, recall, remember, USER_KEY } from './storage';

export function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    api.me().then(
      (me) => {
        remember(USER_KEY, me);
        setUser(me);
      },
      (err: unknown) => {
        // Offline, the participant keeps working on this device with what was saved locally.
        const offline = !(err instanceof ApiError);
        setUser(offline ? recall<User>(USER_KEY) : null);
      },
    );
  }, []);

  useEffect(() => {
    if (user === null) document.title = 'Sign in — Workshop';
  }, [user]);

  const signedIn = (me: User) => {
    remember(USER_KEY, me);
    setNotice(null);
    setUser(me);
  };

  // The session ended (expired, or revoked elsewhere): sign in again. The journal stays, so
  // nothing typed is lost; it is saved once the same person is back.
  const sessionEnded = useCallback(() => {
    setNotice('Your session has ended. Sign in again to keep saving; what you typed is kept on this device.');
    setUser(null);
  }, []);

  if (user === undefined) return <p className="loading">Loading…</p>;
  if (user === null) return <Login notice={notice} onSignedIn={signedIn} />;
  return (
    <Shell
      key={user.id}
      user={user}
      onSessionEnded={sessionEnded}
      onSignedOut={() => {
        // Synchronously stops the user's steps from keeping anything; the removal itself
        // (IndexedDB, waiting images) finishes in the background.
        void clearJournal(user.id);
        forget(USER_KEY);
        setNotice(null);
        setUser(null);
      }}
    />
  );
}
