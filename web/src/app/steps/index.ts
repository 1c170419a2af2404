import type { ComponentType } from 'react';

import type { StepProps } from './common';
import { GenericReflection } from './GenericReflection';
import { Goals } from './Goals';
import { Moments } from './Moments';
import { ReflectionQuestions } from './ReflectionQuestions';
import { StarPower } from './StarPower';
import { VisionImage } from './VisionImage';

const PAGES: Record<string, ComponentType<StepProps>> = {
  'ia:ia-3-2': Moments,
  'ia:ia-3-3': VisionImage,
  'ia:ia-3-4': ReflectionQuestions,
  'ast:2-1': StarPower,
  'ast:3-2': Goals,
};

export function stepPage(workshopType: string, stepId: string): ComponentType<StepProps> {
  return PAGES[`${workshopType}:${stepId}`] ?? GenericReflection;
}

export type { StepProps };
