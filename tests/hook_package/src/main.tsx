import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { WorkshopDataProvider, resumeAfterSignIn } from 'workshop-data-react';

import { Reflection } from './Reflection';

const userId = 42;

// @ts-expect-error the provider must say whose data it is
export const withoutUser = <WorkshopDataProvider>{null}</WorkshopDataProvider>;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <WorkshopDataProvider userId={userId}>
      <Reflection />
      <button type="button" onClick={() => void resumeAfterSignIn(userId)}>Signed in again</button>
    </WorkshopDataProvider>
  </StrictMode>,
);
