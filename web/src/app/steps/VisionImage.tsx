import { useEffect, useState, type ChangeEvent } from 'react';

import { usePendingUpload, type PendingUpload } from 'workshop-data-react';
import { MAX_UPLOAD_BYTES, prepareImage } from '../image';
import type { StatusOverride } from '../SaveState';
import { StepFrame, TextArea, TextInput, useStep, type StepProps } from './common';

interface IA33StepData {
  selectedImage: string | null;
  uploadedImage: string | null;
  reflection: string;
  imageTitle: string;
}

/** A small built-in image bank: inline SVGs, so the gallery needs no files or network. */
function swatch(label: string, from: string, to: string, shape: string): { url: string; label: string } {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="160" height="110" viewBox="0 0 160 110">` +
    `<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${from}"/>` +
    `<stop offset="1" stop-color="${to}"/></linearGradient></defs><rect width="160" height="110" fill="url(#g)"/>` +
    `${shape}</svg>`;
  return { url: `data:image/svg+xml,${encodeURIComponent(svg)}`, label };
}

const IMAGE_BANK = [
  swatch('Sunrise over the sea', '#f6a04d', '#d9534f', '<circle cx="80" cy="78" r="26" fill="#ffe8a3"/><rect y="78" width="160" height="32" fill="#2b5d8a"/>'),
  swatch('Open ocean', '#6fb1e0', '#1b3a5c', '<path d="M0 70 Q20 60 40 70 T80 70 T120 70 T160 70 V110 H0Z" fill="#163452"/>'),
  swatch('Forest path', '#9fd18b', '#1f4d33', '<path d="M30 110 L45 40 L60 110Z M100 110 L118 30 L136 110Z" fill="#173d28"/><path d="M70 110 Q80 70 90 110Z" fill="#d9c79a"/>'),
  swatch('Mountain summit', '#c5b8f0', '#3d3470', '<path d="M0 110 L60 40 L85 70 L110 30 L160 110Z" fill="#2a2450"/><path d="M110 30 L100 46 L120 46Z" fill="white"/>'),
  swatch('City at night', '#2b2d4a', '#0e0f1f', '<rect x="15" y="50" width="25" height="60" fill="#444a78"/><rect x="50" y="30" width="30" height="80" fill="#555c92"/><rect x="92" y="60" width="22" height="50" fill="#444a78"/><rect x="122" y="40" width="26" height="70" fill="#555c92"/><circle cx="135" cy="18" r="8" fill="#f4e6a8"/>'),
  swatch('Open road', '#f3d9a4', '#c47f3a', '<path d="M60 110 L78 45 L82 45 L100 110Z" fill="#4b3b2e"/><path d="M79 50 L81 50 L82 60 L78 60Z M78 70 L82 70 L83 85 L77 85Z" fill="#fff6d8"/>'),
];

const initialData: IA33StepData = { selectedImage: null, uploadedImage: null, reflection: '', imageTitle: '' };

/** What the image waiting for its upload means for the save state (null: nothing waits). */
function uploadSaveState(pending: PendingUpload | null): StatusOverride | null {
  if (!pending) return null;
  if (pending.state === 'failed') return { status: 'error', error: `the image was refused: ${pending.error ?? 'unknown reason'}` };
  if (pending.state === 'uploaded') return { status: 'saving', error: null }; // the step will refer to it next
  if (pending.state === 'storing') return { status: 'dirty', error: null };
  // Only a blob that really is on the device makes "kept on this device" true.
  if (!pending.kept) return { status: 'not-kept', error: pending.keepError };
  return pending.state === 'waiting' ? { status: 'offline', error: null } : { status: 'saving', error: null };
}

/** A chosen image clears the gallery choice when the step refers to it. */
const CLEAR_GALLERY = { selectedImage: null };

/**
 * IA 3-3: choose a vision image from the gallery or upload one, then title and reflect on it.
 * An uploaded image is the package's work from the moment it is chosen: it is kept on the
 * device, uploaded, and the step's `uploadedImage` set to it, whatever page is open by then.
 */
export function VisionImage(props: StepProps) {
  const step = useStep(props, initialData, {
    selectedImage: 'Your vision image',
    uploadedImage: 'Your vision image',
    imageTitle: 'Image title',
    reflection: 'Your reflection',
  });
  const { data, updateData, locked } = step;
  const upload = usePendingUpload(props.workshopType, props.stepId, 'uploadedImage', { alsoSet: CLEAR_GALLERY });
  const { pending, previewUrl, discard } = upload;
  const [uploadError, setUploadError] = useState<string | null>(null);
  /** The chosen file, shown while it is being scaled down. */
  const [preparing, setPreparing] = useState<string | null>(null);

  useEffect(
    () => () => {
      if (preparing) URL.revokeObjectURL(preparing);
    },
    [preparing],
  );

  const waiting = pending ? previewUrl : null;
  const chosen = preparing ?? waiting ?? data.uploadedImage ?? data.selectedImage;
  const chosenLabel =
    preparing || waiting || data.uploadedImage
      ? 'Your uploaded image'
      : (IMAGE_BANK.find((image) => image.url === data.selectedImage)?.label ?? 'Your chosen image');
  const override: StatusOverride | null = preparing ? { status: 'dirty', error: null } : uploadSaveState(pending);

  const handleImageUpload = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = ''; // choosing the same file again still uploads it
    if (!file) return;
    if (!file.type.startsWith('image/')) {
      setUploadError('Choose an image file.');
      return;
    }
    setUploadError(null);
    setPreparing(URL.createObjectURL(file));
    try {
      const image = await prepareImage(file);
      if (image.size > MAX_UPLOAD_BYTES) {
        setUploadError('Choose an image under 10 MB (GIFs are uploaded as they are).');
        return;
      }
      await upload.choose(image);
    } catch {
      setUploadError('The image could not be read.');
    } finally {
      setPreparing(null);
    }
  };

  const choose = (patch: Partial<IA33StepData>) => {
    void discard();
    updateData(patch);
  };

  return (
    <StepFrame title={props.title} step={step} statusOverride={override}
      intro="Choose your vision image: pick one that speaks to you, or upload your own.">
      <div className="gallery" role="group" aria-label="Image gallery">
        {IMAGE_BANK.map((image) => (
          <button key={image.label} type="button" className="gallery__item" disabled={locked}
            aria-pressed={!waiting && data.selectedImage === image.url}
            onClick={() => choose({ selectedImage: image.url, uploadedImage: null })}>
            <img src={image.url} alt={image.label} />
          </button>
        ))}
      </div>
      <div className="field">
        <label htmlFor="imageUpload">Or upload an image</label>
        <input id="imageUpload" name="imageUpload" type="file" accept="image/*" disabled={locked}
          onChange={(event) => void handleImageUpload(event)} aria-describedby={uploadError ? 'imageUpload-error' : undefined} />
        {uploadError ? <p id="imageUpload-error" className="error-text" role="alert">{uploadError}</p> : null}
      </div>
      {chosen ? (
        <div className="chosen">
          <img src={chosen} alt={chosenLabel} data-testid="chosen-image"
            data-pending={waiting || preparing ? (pending?.state ?? 'preparing') : undefined} />
          {locked ? null : (
            <button type="button" onClick={() => choose({ selectedImage: null, uploadedImage: null })}>
              Remove
            </button>
          )}
        </div>
      ) : null}
      <TextInput id="imageTitle" label="Image title" value={data.imageTitle} readOnly={locked}
        placeholder="e.g. Breakthrough, Aspire, Rebirth" onChange={(imageTitle) => updateData({ imageTitle })} />
      <TextArea id="reflection" label="Your reflection" value={data.reflection} readOnly={locked}
        placeholder="Write your reflection here…" onChange={(reflection) => updateData({ reflection })} />
    </StepFrame>
  );
}
