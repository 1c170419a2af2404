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
  byteLength,
} from './stepDataController';
export type { BroadcastMessage, SaveRequest } from './stepDataController';
export { journalKey, indexedDbJournal, storageJournal, defaultJournal } from './journal';
export type { JournalEntry, JournalStore } from './journal';
export {
  UploadQueue,
  usePendingUpload,
  defaultUploadQueue,
  clearUploads,
  uploadKey,
  indexedDbUploads,
  memoryUploads,
} from './uploads';
export type { PendingUpload, UploadState, UploadStore, StoredUpload, UploadQueueOptions, UsePendingUpload } from './uploads';
export { threeWayMerge, jsonEqual, createMergePatch, applyMergePatch } from './merge';
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
