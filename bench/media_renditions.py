"""Renditions for JPEG photos of 12 megapixels on 2 django-q2 workers, against a bare Pillow
script doing the same resizes and saves on 2 processes in the same run.

Per photo: a thumbnail, three responsive widths (640, 1280, 1920) in JPEG and WebP, and two channel
presets (instagram_square, x_card): 9 files. Prints source images per second, the ratio to the
baseline, the peak memory of each worker, and the time from upload to thumbnail for one photo.
The baseline (files written to disk like AICMO's) is run twice: as a plain script (full decode)
and with Image.draft like AICMO.

    python -m bench media_renditions --images 50
"""

import argparse
import io
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRESETS = "instagram_square,x_card"
WIDTHS = (640, 1280, 1920)
CHANNELS = ((1080, 1080), (1600, 900))
PER_IMAGE = 1 + 2 * len(WIDTHS) + len(CHANNELS)


def make_photo(number: int, size=(4000, 3000)) -> bytes:
    """A 12 MP photo-like JPEG (gradients, noise, shapes); each number gives different bytes."""
    from PIL import Image, ImageDraw

    width, height = size
    base = Image.merge("RGB", (
        Image.linear_gradient("L").resize(size),
        Image.radial_gradient("L").resize(size),
        Image.effect_noise((width // 8, height // 8), 40).resize(size),
    ))
    draw = ImageDraw.Draw(base)
    for k in range(8):
        x, y = (number * 97 + k * 431) % width, (number * 61 + k * 277) % height
        draw.ellipse((x, y, x + 600, y + 400), fill=((number * 13 + k * 40) % 256, 90, (k * 30) % 256))
    buffer = io.BytesIO()
    base.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def _fit(size, width):
    return width, max(1, round(size[1] * width / size[0]))


def _crop_box(size, target):
    width, height = size
    aspect = target[0] / target[1]
    crop_w, crop_h = (height * aspect, height) if width / height > aspect else (width, width / aspect)
    left, top = (width - crop_w) / 2, (height - crop_h) / 2
    return (left, top, left + crop_w, top + crop_h)


def bare_pillow(path: str, use_draft: bool) -> int:
    """What a person would write with Pillow alone: same outputs, saved without metadata."""
    import resource

    from PIL import Image, ImageOps

    image = Image.open(path)
    if use_draft:
        image.draft("RGB", (1920, 1440))
    image = ImageOps.exif_transpose(image)
    outputs = [image.resize(_fit(image.size, 320 * image.width // max(image.size)), Image.Resampling.LANCZOS)]
    for width in WIDTHS:
        resized = image.resize(_fit(image.size, width), Image.Resampling.LANCZOS)
        outputs += [(resized, "JPEG"), (resized, "WEBP")]
    outputs[0] = (outputs[0], "JPEG")
    for target in CHANNELS:
        outputs.append((image.resize(target, Image.Resampling.LANCZOS, box=_crop_box(image.size, target)), "JPEG"))
    out_dir = Path(path).parent.parent / "baseline" / Path(path).stem
    out_dir.mkdir(parents=True, exist_ok=True)
    for number, (frame, fmt) in enumerate(outputs):
        frame.info = {}
        options = {"quality": 85} if fmt == "JPEG" else {"quality": 80, "method": 4}
        frame.save(out_dir / f"{number}.{fmt.lower()}", fmt, **options)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def run_baseline(paths: list[str], use_draft: bool) -> tuple[float, int]:
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        peaks = pool.starmap(bare_pillow, [(path, use_draft) for path in paths])
    return len(paths) / (time.perf_counter() - started), max(peaks)


def descendants_peak_rss(root_pid: int, peaks: dict[int, int]) -> None:
    """Record VmHWM (peak resident memory, kB) of every process below root_pid."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except (OSError, IndexError):
                continue
    stack = list(children.get(root_pid, []))
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]))
        except OSError:
            continue


def main(argv):
    parser = argparse.ArgumentParser(prog="bench media_renditions")
    parser.add_argument("--images", type=int, default=500, help="how many 12 MP photos (default 500)")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="aicmo-bench-media-"))
    os.environ.update({
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3",
        "MEDIA_ROOT": str(tmp / "media"), "MEDIA_CHANNEL_PRESETS": PRESETS, "Q_WORKERS": "2",
        "LOG_LEVEL": "WARNING",
    })
    from bench.conditions import describe, setup_django

    setup_django()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from media.models import Rendition
    from media.services import asset_upload, library_create

    started = time.perf_counter()
    sources = tmp / "sources"
    sources.mkdir()
    paths = []
    for number in range(args.images + 1):
        path = sources / f"photo-{number}.jpg"
        path.write_bytes(make_photo(number))
        paths.append(str(path))
    print(describe(images=args.images, megapixels=12, renditions_per_image=PER_IMAGE, workers=2))
    print(f"generated {args.images + 1} photos in {time.perf_counter() - started:.0f}s "
          f"({Path(paths[0]).stat().st_size / 1e6:.1f} MB each)")

    plain_rate, plain_peak = run_baseline(paths[:-1], use_draft=False)
    draft_rate, draft_peak = run_baseline(paths[:-1], use_draft=True)

    library = library_create(name="Bench")
    for path in paths[:-1]:
        asset_upload(library=library, file=SimpleUploadedFile(Path(path).name, Path(path).read_bytes()),
                     uploaded_by=None)
    expected = args.images * PER_IMAGE
    cluster = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=os.environ.copy(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    peaks: dict[int, int] = {}
    started = time.perf_counter()
    try:
        first_done = None
        while (done := Rendition.objects.count()) < expected:
            if done and first_done is None:
                first_done = (time.perf_counter(), Rendition.objects.values("asset").distinct().count())
            descendants_peak_rss(cluster.pid, peaks)
            if time.perf_counter() - started > 3600:
                print(f"gave up after an hour with {done}/{expected} renditions", file=sys.stderr)
                return 1
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
        rate = args.images / elapsed
        first_at, first_images = first_done or (started, 0)
        steady = (args.images - first_images) / max(time.perf_counter() - first_at, 1e-9)

        asset, _, _ = asset_upload(library=library, uploaded_by=None, file=SimpleUploadedFile(
            "one.jpg", Path(paths[-1]).read_bytes()))
        uploaded = time.perf_counter()
        while not Rendition.objects.filter(asset=asset, preset="thumbnail").exists():
            time.sleep(0.02)
        to_thumbnail = time.perf_counter() - uploaded
        descendants_peak_rss(cluster.pid, peaks)
    finally:
        cluster.terminate()
        cluster.wait(timeout=60)
    workers = sorted(peaks.values(), reverse=True)[:2]
    print(f"AICMO on 2 workers: {rate:.2f} images/s (includes cluster start-up) | bare Pillow, 2 processes: "
          f"{plain_rate:.2f} images/s, ratio {rate / plain_rate:.2f} | bare Pillow with draft: {draft_rate:.2f} "
          f"images/s, ratio {rate / draft_rate:.2f} (goal ≥ 0.8)")
    print(f"AICMO steady rate (from the first rendition written, start-up excluded): {steady:.2f} images/s, "
          f"ratio {steady / plain_rate:.2f} to plain, {steady / draft_rate:.2f} to draft")
    print(f"peak memory per worker: {', '.join(f'{kb / 1024:.0f} MB' for kb in workers)} | bare Pillow per "
          f"process: {plain_peak} MB plain, {draft_peak} MB with draft")
    print(f"upload to thumbnail for one photo (worker already running): {to_thumbnail:.2f}s (goal < 2 s)")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0
