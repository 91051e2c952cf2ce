"""Media files on an S3-compatible bucket, shared by every web process and worker
(STORAGES["default"] when MEDIA_STORAGE_URL is set; kept apart so that a site on its local disk
never imports boto3).

Renditions are made to be published, so their URLs are public and stable: straight from the bucket,
or from MEDIA_PUBLIC_BASE_URL (a CDN in front of it). The bucket must allow anonymous reads of
`renditions/` and nothing else (README, "Scale-out"). Every other file gets a signed URL that
expires after MEDIA_SIGNED_URL_SECONDS, given out only by views that checked who is asking.
"""

from django.utils.encoding import filepath_to_uri
from django.utils.http import content_disposition_header
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

PUBLIC_PREFIXES = ("renditions/",)


class MediaBucketStorage(S3Storage):
    # Never overwrite: a second upload under a taken name gets a new name, as on the local disk, so
    # a file a page already links to is not replaced behind its back.
    file_overwrite = False
    default_acl = None

    def get_default_settings(self):
        return {**super().get_default_settings(), "public_base_url": ""}

    def key(self, name: str) -> str:
        """The object's key in the bucket (the configured prefix, then the name)."""
        return self._normalize_name(clean_name(name))

    def stored_sizes(self) -> dict[str, int]:
        """Every file in the bucket (names as the storage gives them) with its size, in one listing."""
        prefix = f"{self.location}/" if self.location else ""
        return {item.key[len(prefix):]: item.size for item in self.bucket.objects.filter(Prefix=prefix)}

    def url(self, name, parameters=None, expire=None, http_method=None):
        if not parameters and name.startswith(PUBLIC_PREFIXES):
            if self.public_base_url:
                return f"{self.public_base_url}/{filepath_to_uri(self.key(name))}"
            return self.unsigned_connection.meta.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket_name, "Key": self.key(name)})
        return super().url(name, parameters=parameters, expire=expire, http_method=http_method)

    def signed_download_url(self, name: str, *, filename: str, content_type: str, as_attachment: bool) -> str:
        # The bucket's answer carries the headers Django would have sent; nosniff cannot be asked
        # for, but the bucket's origin is not the site's, so a sniffed page could not act as the site.
        return super().url(name, parameters={
            "ResponseContentType": content_type,
            "ResponseContentDisposition": content_disposition_header(as_attachment, filename),
            "ResponseCacheControl": "private, no-store",
        })
