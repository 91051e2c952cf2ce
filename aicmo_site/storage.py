"""The one way a private file (an original, an import file, an error report) is handed to a person,
wherever it is stored (aicmo_site.bucket for the bucket)."""

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse, HttpResponseRedirect


def _bucket(file: FieldFile):
    """The bucket storage the file is in, or None on the local disk (duck-typed: importing the bucket's
    class would import boto3 on every site)."""
    return file.storage if hasattr(file.storage, "signed_download_url") else None


def private_file_response(file: FieldFile, *, filename: str, content_type: str,
                          as_attachment: bool = True) -> HttpResponse:
    """The file for a person a view has just checked: a redirect to a short-lived signed URL when it
    is in the bucket (the bytes do not pass through the web process), else streamed from disk."""
    if bucket := _bucket(file):
        response = HttpResponseRedirect(bucket.signed_download_url(
            file.name, filename=filename, content_type=content_type, as_attachment=as_attachment))
    else:
        response = FileResponse(file.open("rb"), content_type=content_type, as_attachment=as_attachment,
                                filename=filename)
    response["Cache-Control"] = "private, no-store"
    # Set here too, not only by SecurityMiddleware's setting: an upload that a browser sniffed as HTML
    # would run as this site, so the guarantee must not depend on a setting left on.
    response["X-Content-Type-Options"] = "nosniff"
    return response


def stored_location(file: FieldFile) -> str:
    """Where an operator finds the file: its path on this machine, or its address in the bucket."""
    if bucket := _bucket(file):
        return f"s3://{bucket.bucket_name}/{bucket.key(file.name)}"
    return file.path
