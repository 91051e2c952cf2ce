"""Demo data: a library of a dozen generated pictures, tagged, one in review and one approved."""

import io

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from media.choices import AssetStatusChoices
from media.models import Library
from media.services import asset_approve, asset_renditions_generate, asset_submit, asset_upload, library_create

LIBRARY = "Brand photos"
PICTURES = [
    ("Summer beach", (1600, 1067), (250, 190, 90), ["summer", "outdoor"]),
    ("Team meeting", (1600, 1067), (70, 110, 200), ["team", "office"]),
    ("Product close-up", (1200, 1200), (200, 60, 80), ["product"]),
    ("Conference stage", (1920, 1080), (40, 40, 60), ["events"]),
    ("Coffee break", (1080, 1350), (150, 100, 60), ["team", "office"]),
    ("Mountain trail", (2000, 1333), (60, 140, 90), ["outdoor"]),
    ("Launch banner", (1600, 900), (240, 120, 30), ["product", "events"]),
    ("Workshop", (1400, 1050), (110, 70, 160), ["events", "team"]),
    ("City skyline", (1920, 1280), (30, 80, 120), ["outdoor"]),
    ("Packaging", (1000, 1000), (220, 220, 200), ["product"]),
    ("Customer story", (1200, 1500), (180, 150, 210), ["customers"]),
    ("Autumn campaign", (1600, 1000), (190, 90, 40), ["autumn"]),
]


def _picture(size, colour, number: int) -> bytes:
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    width, height = size
    for step in range(6):
        shade = tuple(min(255, c + 25 * step) for c in colour)
        inset = step * min(width, height) // 14
        draw.ellipse((inset + number * 17 % 200, inset, width - inset, height - inset - number * 11 % 150), fill=shade)
    draw.rectangle((width // 10, height * 7 // 10, width * 4 // 10, height * 8 // 10), fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=82)
    return buffer.getvalue()


def seed() -> str:
    user = get_user_model().objects.filter(username="marketer").first()
    approver = get_user_model().objects.filter(username="approver").first()
    library = Library.objects.filter(name=LIBRARY).first() or library_create(
        name=LIBRARY, description="Generated pictures for trying the asset library.", owner=user
    )
    created = 0
    assets = []
    for number, (name, size, colour, tags) in enumerate(PICTURES):
        file = SimpleUploadedFile(f"{name.lower().replace(' ', '-')}.jpg", _picture(size, colour, number))
        asset, new, _ = asset_upload(library=library, file=file, uploaded_by=user, name=name, tags=tags,
                                     alt_text="" if number == 5 else f"{name} (demo picture)")
        created += new
        assets.append(asset)
        asset_renditions_generate(asset_id=asset.pk)
    in_review, approved = assets[1], assets[0]
    if in_review.status == AssetStatusChoices.DRAFT:
        asset_submit(asset=in_review, by=user, note="For the team page")
    if approved.status == AssetStatusChoices.DRAFT and approver:
        asset_submit(asset=approved, by=user)
        asset_approve(asset=approved, by=approver, note="Good for the summer campaign")
    return f"library “{LIBRARY}” with {len(assets)} images ({created} new)"
