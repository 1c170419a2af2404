import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { WorkshopDataProvider } from 'workshop-data-react';

import { Reflection } from './Reflection';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <WorkshopDataProvider userId={42}>
      <Reflection />
    </WorkshopDataProvider>
  </StrictMode>,
);
