import type { ChangeEvent } from 'react';

import { useWorkshopStepData } from '../../lib';
import { StepFrame, TextArea, TextInput, type StepProps } from './common';

interface VisionData {
  selectedImage: string | null;
  uploadedImage: string | null;
  imageTitle: string;
  reflection: string;
}

function swatch(label: string, from: string, to: string): { url: string; label: string } {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="160" height="110" viewBox="0 0 160 110">` +
    `<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${from}"/>` +
    `<stop offset="1" stop-color="${to}"/></linearGradient></defs><rect width="160" height="110" fill="url(#g)"/>` +
    `<text x="80" y="62" font-family="sans-serif" font-size="16" fill="white" text-anchor="middle">${label}</text></svg>`;
  return { url: `data:image/svg+xml,${encodeURIComponent(svg)}`, label };
}

const IMAGE_BANK = [
  swatch('Sunrise', '#f6a04d', '#d9534f'),
  swatch('Ocean', '#2b7bb9', '#1b3a5c'),
  swatch('Forest', '#3c8d5a', '#1f4d33'),
  swatch('Summit', '#8a7bd1', '#3d3470'),
];

const initialData: VisionData = { selectedImage: null, uploadedImage: null, imageTitle: '', reflection: '' };

/** IA 3-3: choose a vision image from the gallery or upload one, then title and reflect on it. */
export function VisionImage({ workshopType, stepId, title, userId, readOnly }: StepProps) {
  const { data, updateData, status, error } = useWorkshopStepData(workshopType, stepId, initialData, { userId });
  const locked = readOnly || status === 'locked';
  const chosen = data.uploadedImage ?? data.selectedImage;

  const upload = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => updateData({ uploadedImage: String(reader.result), selectedImage: null });
    reader.readAsDataURL(file);
  };

  return (
    <StepFrame title={title} status={status} error={error} intro="Pick an image that speaks to your vision, or upload your own.">
      <div className="gallery" role="group" aria-label="Image gallery">
        {IMAGE_BANK.map((image) => (
          <button key={image.label} type="button" className="gallery__item" disabled={locked}
            aria-pressed={data.selectedImage === image.url}
            onClick={() => updateData({ selectedImage: image.url, uploadedImage: null })}>
            <img src={image.url} alt={image.label} />
          </button>
        ))}
      </div>
      <div className="field">
        <label htmlFor="imageUpload">Or upload an image</label>
        <input id="imageUpload" name="imageUpload" type="file" accept="image/*" disabled={locked} onChange={upload} />
      </div>
      {chosen ? (
        <div className="chosen">
          <img src={chosen} alt="Your chosen vision" data-testid="chosen-image" />
          {locked ? null : (
            <button type="button" onClick={() => updateData({ selectedImage: null, uploadedImage: null })}>
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
