import type { WorkshopType } from 'workshop-data-react';
import type { CatalogSection, CatalogStep, CatalogWorkshop } from './api';

/** Where the participant is: `#/{type}` (overview), `#/{type}/{stepId}`, `#/my-data`. */
export type Route =
  | { kind: 'overview'; workshopType: WorkshopType }
  | { kind: 'step'; workshopType: WorkshopType; stepId: string }
  | { kind: 'my-data' }
  | { kind: 'missing'; workshopType: WorkshopType | null; path: string };

export function parseRoute(hash: string, catalog: CatalogWorkshop[]): Route {
  const path = decodeURIComponent(hash.replace(/^#\/?/, ''));
  const [type, step, ...rest] = path.split('/');
  if (!type) {
    const first = catalog[0];
    return first ? { kind: 'overview', workshopType: first.type } : { kind: 'missing', workshopType: null, path };
  }
  if (type === 'my-data' && step === undefined) return { kind: 'my-data' };
  const workshop = catalog.find((w) => w.type === type);
  if (!workshop) return { kind: 'missing', workshopType: null, path };
  if (step === undefined || (step === '' && rest.length === 0)) return { kind: 'overview', workshopType: workshop.type };
  if (rest.length === 0 && findStep(workshop, step)) return { kind: 'step', workshopType: workshop.type, stepId: step };
  return { kind: 'missing', workshopType: workshop.type, path };
}

export function routeHref(route: Route): string {
  switch (route.kind) {
    case 'overview':
      return `#/${route.workshopType}`;
    case 'step':
      return `#/${route.workshopType}/${route.stepId}`;
    case 'my-data':
      return '#/my-data';
    case 'missing':
      return `#/${route.path}`;
  }
}

export function stepHref(workshopType: WorkshopType, stepId: string): string {
  return `#/${workshopType}/${stepId}`;
}

export function findStep(workshop: CatalogWorkshop, stepId: string): { section: CatalogSection; step: CatalogStep } | null {
  for (const section of workshop.sections) {
    const step = section.steps.find((s) => s.id === stepId);
    if (step) return { section, step };
  }
  return null;
}

export function orderedSteps(workshop: CatalogWorkshop): CatalogStep[] {
  return workshop.sections.flatMap((s) => s.steps);
}

/** "Step 3.2" for the step numbered 2 in section 3. */
export function stepLabel(workshop: CatalogWorkshop, stepId: string): string {
  const found = findStep(workshop, stepId);
  if (!found) return stepId;
  return `Step ${found.section.number}.${found.section.steps.indexOf(found.step) + 1}`;
}
