"""The untouched original of an asset, for people who may see the library only.

Originals keep what the camera wrote (GPS position, serial, owner), so they are never given a public
URL: the web server serves `MEDIA_ROOT/renditions/` alone (the bucket, `renditions/` alone), and an
original goes out through this response after the view checked who is asking. With
MEDIA_ORIGINALS_ACCEL_REDIRECT set (an nginx `internal` location aliased to MEDIA_ROOT), Django only
answers the header and the web server sends the bytes; in a bucket, a short-lived signed URL does
the same; otherwise Django streams the file itself.
"""

from django.http import FileResponse, HttpResponse

from aicmo_site.storage import private_file_response
from media.conf import media_setting
from media.models import Asset


def asset_original_response(asset: Asset) -> HttpResponse:
    extension = "." + asset.file.name.rsplit(".", 1)[-1]
    name = asset.name if asset.name.lower().endswith(extension) else f"{asset.name or 'asset'}{extension}"
    prefix = media_setting("MEDIA_ORIGINALS_ACCEL_REDIRECT")
    if not prefix:
        return private_file_response(asset.file, filename=name, content_type=asset.mime_type,
                                     as_attachment=not asset.is_image)
    response = FileResponse(content_type=asset.mime_type, as_attachment=not asset.is_image, filename=name)
    response["X-Accel-Redirect"] = f"{prefix.rstrip('/')}/{asset.file.name}"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
