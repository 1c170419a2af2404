/**
 * workshop-data-react/core: the framework-free client core. A pure reducer over the
 * participant's pending work, one sync loop that sends it, the store that journals it, and
 * the summary of what is pending on this device. No React here: the hooks are adapters.
 */
export { reduce, initialState, retryDelay, dueItems, nextWakeAt, isPending, pendingCounts } from './reducer.js';
export type { PendingCounts } from './reducer.js';
export { SyncLoop, classify } from './loop.js';
export type { Performers, NetworkEvents, SyncLoopOptions, ResultListener } from './loop.js';
export { httpPerformers, throughOpenStep } from './http.js';
export type { HttpOptions } from './http.js';
export {
  indexedDbWorkStore,
  memoryWorkStore,
  readWork,
  imageStepChange,
  stepChangeKey,
  progressKey,
  userPrefixes,
  UPLOAD_PREFIX,
  WORK_PREFIX,
  WORK_DB,
} from './store.js';
export type { WorkStore, StoredValue } from './store.js';
export { defaultSyncCore, clearWork, resumeWork } from './defaultCore.js';
export { summarize, pendingSummary, describePending, pendingText, NOTHING_PENDING } from './pending.js';
export type { PendingSummary } from './pending.js';
export { openStep, pendingStepKeys, subscribeSteps } from './steps.js';
export type { RegisteredStep } from './steps.js';
export { DEFAULT_CONFIG } from './work.js';
export type {
  Action,
  Entry,
  Failure,
  Phase,
  ProgressWork,
  StepChangeWork,
  SyncConfig,
  SyncState,
  UploadWork,
  WorkItem,
  WorkKind,
  WorkStatus,
} from './work.js';
// The live events (GET /api/events): one stream per browser, the open steps following it,
// presence reports. Framework-free too; they live beside the core in `live/`.
export { EventStream, sharedEventStream, closeSharedEventStream, parseLiveEvent, backoffDelay } from '../live/eventStream.js';
export type { LiveEvent, StreamState, EventStreamOptions } from '../live/eventStream.js';
export { followStepEvents, routeStepEvent } from '../live/followSteps.js';
export { PresenceReporter } from '../live/presence.js';
export { thisTabDeviceId } from '../live/device.js';
