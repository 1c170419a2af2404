/** The longest side an uploaded image keeps; larger photos are scaled down in the browser. */
export const MAX_IMAGE_SIDE = 2048;
/** The server's default upload limit (WORKSHOP_DATA_MAX_UPLOAD_BYTES). */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

const QUALITY = 0.85;

function toBlob(canvas: HTMLCanvasElement, type: string): Promise<Blob | null> {
  return new Promise((resolve) => canvas.toBlob(resolve, type, QUALITY));
}

/**
 * The image to upload for `file`: scaled so its longest side is at most MAX_IMAGE_SIDE and
 * re-encoded as WebP (JPEG where the browser cannot write WebP). GIFs are kept as they are
 * (re-encoding would lose their animation). A re-encoding that came out larger than an
 * original that needed no scaling is dropped for the original. Throws when the browser
 * cannot decode the file.
 */
export async function prepareImage(file: Blob): Promise<Blob> {
  if (file.type === 'image/gif') return file;
  const bitmap = await createImageBitmap(file);
  try {
    const scale = Math.min(1, MAX_IMAGE_SIDE / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext('2d');
    if (!context) throw new Error('This browser cannot draw images.');
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, 0, 0, width, height);
    let encoded = await toBlob(canvas, 'image/webp');
    if (!encoded || encoded.type !== 'image/webp') encoded = await toBlob(canvas, 'image/jpeg');
    if (!encoded) throw new Error('The image could not be encoded.');
    const original = ['image/png', 'image/jpeg', 'image/webp'].includes(file.type);
    return scale === 1 && original && encoded.size >= file.size ? file : encoded;
  } finally {
    bitmap.close();
  }
}
