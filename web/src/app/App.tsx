import { useCallback, useEffect, useState } from 'react';

import { clearJournal, HttpError, resumeAfterSignIn } from 'workshop-data-react';
import { api, type User } from './api';
import { Login, SignInAgain } from './Login';
import { Shell } from './Shell';
import { StaffShell } from './staff/StaffShell';
import { forget, recall, remember, USER_KEY } from './storage';

export function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [sessionEnded, setSessionEnded] = useState(false);

  useEffect(() => {
    api.me().then(
      (me) => {
        remember(USER_KEY, me);
        setUser(me);
      },
      (err: unknown) => {
        // Offline, the participant keeps working on this device with what was saved locally.
        const offline = !(err instanceof HttpError);
        setUser(offline ? recall<User>(USER_KEY) : null);
      },
    );
  }, []);

  useEffect(() => {
    if (user === null) document.title = 'Sign in — Workshop';
  }, [user]);

  const signedIn = (me: User) => {
    remember(USER_KEY, me);
    setUser(me);
  };

  // The session ended (expired, or revoked elsewhere): sign in again over the page. Its steps
  // keep what they have not sent (on screen and in the journal) and send it once the same person
  // is back; someone else signing in gets their own pages (the journal stays under its owner).
  const sessionEnd = useCallback(() => setSessionEnded(true), []);
  const signedInAgain = (me: User) => {
    remember(USER_KEY, me);
    setSessionEnded(false);
    if (me.id === user?.id) void resumeAfterSignIn(me.id);
    else setUser(me);
  };

  if (user === undefined) return <p className="loading">Loading…</p>;
  if (user === null) return <Login onSignedIn={signedIn} />;
  return (
    <>
      {user.role === 'participant' ? <Shell
        key={user.id}
        user={user}
        onSessionEnded={sessionEnd}
        onSignedOut={() => {
          // Synchronously stops the user's steps from keeping anything; the removal itself
          // (IndexedDB, waiting images) finishes in the background.
          void clearJournal(user.id);
          forget(USER_KEY);
          setSessionEnded(false);
          setUser(null);
        }}
      /> : <StaffShell key={user.id} user={user} onSessionEnded={sessionEnd}
        onSignedOut={() => {
          forget(USER_KEY);
          setSessionEnded(false);
          setUser(null);
        }} />}
      {sessionEnded ? <SignInAgain onSignedIn={signedInAgain} /> : null}
    </>
  );
}
