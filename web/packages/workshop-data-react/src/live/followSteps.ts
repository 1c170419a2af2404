/**
 * The hook listens: a `step` event for a step open on this page, from another device or tab
 * (its `deviceId` is not this tab's), with a version newer than the page's, makes that step
 * fetch the server copy and merge it through its usual merge (`serverHasVersion` → reload →
 * the three-way merge). `resync` makes every open step of the user check. Framework-free.
 */
import { mounted } from '../core/steps.js';
import { thisTabDeviceId } from './device.js';
import type { EventStream, LiveEvent } from './eventStream.js';

export interface FollowedStep {
  readonly userId: string | number;
  readonly workshopType?: string;
  readonly stepId?: string;
  serverHasVersion?(version: number): void;
}

export function routeStepEvent(event: LiveEvent, userId: string | number, steps: Iterable<FollowedStep>, deviceId: string): number {
  let routed = 0;
  for (const step of steps) {
    if (String(step.userId) !== String(userId) || !step.serverHasVersion) continue;
    if (event.kind === 'resync') {
      step.serverHasVersion(Number.MAX_SAFE_INTEGER);
      routed += 1;
    } else if (
      event.kind === 'step' &&
      String(event.userId) === String(userId) &&
      event.deviceId !== deviceId &&
      event.workshopType === step.workshopType &&
      event.stepId === step.stepId
    ) {
      step.serverHasVersion(event.version);
      routed += 1;
    }
  }
  return routed;
}

/** Routes the stream's events to the page's mounted steps of `userId`; returns the stop. */
export function followStepEvents(
  stream: Pick<EventStream, 'subscribe'>,
  userId: string | number,
  steps: () => Iterable<FollowedStep> = () => mounted.keys(),
  deviceId: string = thisTabDeviceId(),
): () => void {
  return stream.subscribe((event) => {
    routeStepEvent(event, userId, steps(), deviceId);
  });
}
