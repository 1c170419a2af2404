export { useWorkshopStepData } from './useWorkshopStepData';
export type { UseWorkshopStepData } from './useWorkshopStepData';
export { WorkshopDataProvider } from './context';
export type { WorkshopDataDefaults } from './context';
export {
  StepDataController,
  HttpError,
  KEEPALIVE_LIMIT_BYTES,
  isRetryable,
  parseRetryAfter,
  saveAllNow,
  clearJournal,
} from './stepDataController';
export type { BroadcastMessage } from './stepDataController';
export { journalKey } from './journal';
export type { JournalEntry } from './journal';
export { threeWayMerge, jsonEqual } from './merge';
export type { MergeResult } from './merge';
export type {
  ChannelLike,
  ConflictInfo,
  PageEvents,
  SaveStatus,
  StepDataOptions,
  StepDataState,
  StepDocument,
  StepRecord,
  WorkshopType,
} from './types';
