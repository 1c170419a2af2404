export { useWorkshopStepData } from './useWorkshopStepData.js';
export type { UseWorkshopStepData } from './useWorkshopStepData.js';
export { WorkshopDataProvider } from './context.js';
export type { WorkshopDataDefaults } from './context.js';
export { StepDataController } from './stepDataController.js';
export { HttpError, isRetryable, parseRetryAfter, requestJson } from './transport.js';
export type { JsonRequest } from './transport.js';
export { KEEPALIVE_LIMIT_BYTES, byteLength } from './pageAdapters.js';
export type { BroadcastMessage } from './pageAdapters.js';
export { saveAllNow, resumeAfterSignIn, clearJournal } from './registry.js';
export type { SaveRequest } from './saveRequest.js';
export { requireUserId } from './userId.js';
export { journalKey, indexedDbJournal, storageJournal, defaultJournal } from './journal.js';
export type { JournalEntry, JournalStore } from './journal.js';
export {
  UploadQueue,
  usePendingUpload,
  defaultUploadQueue,
  clearUploads,
  uploadKey,
  indexedDbUploads,
  memoryUploads,
} from './uploads.js';
export type { PendingUpload, UploadState, UploadStore, StoredUpload, UploadQueueOptions, UsePendingUpload } from './uploads.js';
export { threeWayMerge, jsonEqual, createMergePatch, applyMergePatch } from './merge.js';
export type { MergeResult } from './merge.js';
export { mergeDocuments, itemKey } from './documentMerge.js';
export type { DocumentMergeResult } from './documentMerge.js';
export { mergeText, mergeSequences, keepBothTexts, textTokens } from './textMerge.js';
export type { MergeChunk, TextMergeResult, SequenceMergeOptions } from './textMerge.js';
export { newItemId, withItemIds } from './itemIds.js';
export { mapSelection, setTextFieldValue } from './selection.js';
export type { TextSelection, TextFieldLike } from './selection.js';
export { useTextFieldBinding } from './useTextFieldBinding.js';
export type { TextFieldBinding } from './useTextFieldBinding.js';
export { migrateStepData, needsMigration } from './schemaVersion.js';
export type { MigrateStepData, Migrated } from './schemaVersion.js';
export type {
  ChannelLike,
  ConflictInfo,
  PageEvents,
  RejectedChange,
  SaveStatus,
  StepDataOptions,
  StepDataState,
  StepDocument,
  StepRecord,
  UseWorkshopStepDataOptions,
  WorkshopType,
} from './types.js';
export { EventStream, sharedEventStream, closeSharedEventStream, parseLiveEvent, backoffDelay } from './live/eventStream.js';
export type {
  LiveEvent,
  LiveEventKind,
  StepEvent,
  ProgressEvent,
  ParticipationEvent,
  PresenceEvent,
  ResyncEvent,
  StreamState,
  EventStreamOptions,
  EventSourceLike,
  BroadcastChannelLike,
  LocksLike,
} from './live/eventStream.js';
export { PresenceReporter } from './live/presence.js';
export type { PresenceReporterOptions } from './live/presence.js';
export { defaultSyncCore, pendingSummary, pendingText, describePending, subscribeSteps, progressKey, NOTHING_PENDING } from './core/index.js';
export { SyncLoop } from './core/index.js';
export type { PendingSummary, ProgressWork } from './core/index.js';
export type { ImageTarget } from './uploads.js';
export { usePendingWork } from './usePendingWork.js';
export { followStepEvents, routeStepEvent } from './live/followSteps.js';
export type { FollowedStep } from './live/followSteps.js';
export { thisTabDeviceId } from './live/device.js';
