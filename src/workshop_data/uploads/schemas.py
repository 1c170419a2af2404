from workshop_data.api_schema import CamelModel

# What POST /api/uploads accepts as the body's Content-Type; the stored type is sniffed from
# the bytes, whatever the label says.
IMAGE_CONTENT_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
UPLOAD_CONTENT_TYPES = IMAGE_CONTENT_TYPES | {"application/octet-stream"}


class UploadOut(CamelModel):
    id: str
    url: str
    content_type: str
    size: int
    sha256: str
    created_at: str


class UploadResponse(CamelModel):
    success: bool = True
    upload: UploadOut
