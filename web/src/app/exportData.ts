/** Fetching the participant's export (GET /api/export/users/{id}) with download progress. */

export interface ExportedStep {
  data: Record<string, unknown>;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface ExportDocument {
  userInfo: { id: number; username: string; name: string };
  workshopStepData: Record<string, Record<string, ExportedStep>>;
  workshopParticipation: { workshopType: string; completedAt: string | null }[];
  exportMetadata: { exportedAt: string };
}

export interface FetchedExport {
  document: ExportDocument;
  filename: string;
  bytes: number;
}

export interface DownloadProgress {
  received: number;
  /** From Content-Length; null when the server did not say. */
  total: number | null;
}

export class ExportError extends Error {}

function filenameOf(disposition: string | null, fallback: string): string {
  const match = disposition?.match(/filename="([^"]+)"/);
  return match?.[1] ?? fallback;
}

export async function fetchExport(userId: number, onProgress: (progress: DownloadProgress) => void): Promise<FetchedExport> {
  let response: Response;
  try {
    response = await fetch(`/api/export/users/${userId}`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  } catch {
    throw new ExportError('The server could not be reached. Check your connection and try again.');
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as { error?: unknown };
    throw new ExportError(typeof body.error === 'string' ? body.error : `The server answered ${response.status}.`);
  }
  const length = Number(response.headers.get('Content-Length'));
  const total = Number.isFinite(length) && length > 0 ? length : null;
  const chunks: Uint8Array[] = [];
  let received = 0;
  onProgress({ received, total });
  const reader = response.body?.getReader();
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.byteLength;
      onProgress({ received, total });
    }
  }
  const text = reader ? new TextDecoder().decode(concat(chunks, received)) : await response.text();
  const document = JSON.parse(text) as ExportDocument;
  return { document, filename: filenameOf(response.headers.get('Content-Disposition'), 'workshop-data.json'), bytes: received || text.length };
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

/** Hand `document` to the browser as a pretty-printed JSON file; returns its size in bytes. */
export function saveJson(document: unknown, filename: string): number {
  const blob = new Blob([JSON.stringify(document, null, 2) + '\n'], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const link = window.document.createElement('a');
  link.href = url;
  link.download = filename;
  link.hidden = true;
  window.document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return blob.size;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
