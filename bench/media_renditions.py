"""Uploads and renditions of JPEG photos of 12 megapixels on 2 django-q2 workers, against a bare Pillow
script doing the same hashing, resizes and saves on 2 processes, the two measured alternately in the
same run (--rounds, median).

Per photo: a thumbnail, the metadata-free publish copy, three responsive widths (640, 1280, 1920) in
JPEG and WebP, and two channel presets (instagram_square, x_card): 10 files. AICMO's timed work starts
at the first upload (checks, SHA-256 and perceptual hash, the stored file and the queued run) and ends
when the last rendition row is written; the cluster is started before the first round. The baseline
reads each file, hashes it (hashlib.file_digest, a dHash from a 1/8 decode), and writes the same files
with the same save options, the way one would with Pillow alone: the responsive and channel sizes from
one Image.draft decode, the publish copy a full decode saved again without metadata.
Prints images per second and per core (2 workers on 2 cores), the ratio to the baseline, the load
average at the start and end of each measurement, peak memory per worker, and the time from upload
to thumbnail for one photo.

    python -m bench media_renditions --images 50 --rounds 3
"""

import argparse
import hashlib
import io
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRESETS = "instagram_square,x_card"
WIDTHS = (640, 1280, 1920)
CHANNELS = ((1080, 1080), (1600, 900))
PER_IMAGE = 2 + 2 * len(WIDTHS) + len(CHANNELS)


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


def _difference_hash(path: str) -> str:
    from PIL import Image

    image = Image.open(path)
    image.draft("L", (64, 64))
    pixels = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS).tobytes()
    return "".join("1" if pixels[row * 9 + col] > pixels[row * 9 + col + 1] else "0"
                   for row in range(8) for col in range(8))


def bare_pillow(path: str) -> int:
    """What a person would write with Pillow alone: the same hashes and outputs, saved without metadata."""
    import resource

    from PIL import Image, ImageOps

    from media.renditions import _SAVE_OPTIONS

    with open(path, "rb") as handle:
        hashlib.file_digest(handle, "sha256").hexdigest()
    _difference_hash(path)
    publish = ImageOps.exif_transpose(Image.open(path))
    image = Image.open(path)
    image.draft("RGB", (1920, 1440))
    image = ImageOps.exif_transpose(image)
    outputs = [(publish, "jpeg"),
               (image.resize(_fit(image.size, 320 * image.width // max(image.size)), Image.Resampling.LANCZOS), "jpeg")]
    for width in WIDTHS:
        resized = image.resize(_fit(image.size, width), Image.Resampling.LANCZOS)
        outputs += [(resized, "jpeg"), (resized, "webp")]
    for target in CHANNELS:
        outputs.append((image.resize(target, Image.Resampling.LANCZOS, box=_crop_box(image.size, target)), "jpeg"))
    out_dir = Path(path).parent.parent / "baseline" / Path(path).stem
    out_dir.mkdir(parents=True, exist_ok=True)
    for number, (frame, fmt) in enumerate(outputs):
        frame.info = {}
        frame.save(out_dir / f"{number}.{fmt}", **_SAVE_OPTIONS[fmt])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def run_baseline(paths: list[str]) -> tuple[float, float, int]:
    """Images per second, per CPU second of the 2 processes, and their peak memory (MB)."""
    import resource

    def children_cpu():
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    cpu, started = children_cpu(), time.perf_counter()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        peaks = pool.map(bare_pillow, paths)
        pool.close()
        pool.join()
    elapsed = time.perf_counter() - started
    return len(paths) / elapsed, len(paths) / (children_cpu() - cpu), max(peaks)


def descendants(root_pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except (OSError, IndexError):
                continue
    found, stack = [], list(children.get(root_pid, []))
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack += children.get(pid, [])
    return found


def descendants_peak_rss(root_pid: int, peaks: dict[int, int]) -> None:
    """Record VmHWM (peak resident memory, kB) of every process below root_pid."""
    for pid in descendants(root_pid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]))
        except OSError:
            continue


def cpu_seconds(root_pid: int) -> float:
    """User and system CPU time of the processes below root_pid (the cluster: workers, pusher, monitor)."""
    ticks = 0
    for pid in [root_pid, *descendants(root_pid)]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def load() -> str:
    return "{:.1f}/{:.1f}/{:.1f}".format(*os.getloadavg())


def aicmo_round(paths: list[str], cluster_pid: int, peaks: dict) -> tuple[float, float]:
    """Upload every photo and wait for every rendition: images per second over both, and per CPU second
    (the uploads' and the cluster's). The assets go at the end, so the next round uploads the same bytes
    as new files (not as duplicates)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from media.models import Asset, Rendition
    from media.services import asset_upload, library_create

    library = library_create(name=f"Bench {time.monotonic_ns()}")
    cluster_cpu, started = cpu_seconds(cluster_pid), time.perf_counter()
    uploads_cpu = time.process_time()
    for path in paths:
        with open(path, "rb") as handle:
            asset_upload(library=library, file=SimpleUploadedFile(Path(path).name, handle.read()),
                         uploaded_by=None)
    uploads_cpu = time.process_time() - uploads_cpu
    expected = len(paths) * PER_IMAGE
    while Rendition.objects.filter(asset__library=library).count() < expected:
        descendants_peak_rss(cluster_pid, peaks)
        if time.perf_counter() - started > 3600:
            raise SystemExit(f"gave up after an hour: {Rendition.objects.filter(asset__library=library).count()}"
                             f"/{expected} renditions")
        time.sleep(0.1)
    rate = len(paths) / (time.perf_counter() - started)
    cpu = uploads_cpu + cpu_seconds(cluster_pid) - cluster_cpu
    Rendition.objects.filter(asset__library=library).delete()
    Asset.objects.filter(library=library).delete()
    return rate, len(paths) / cpu


def main(argv):
    parser = argparse.ArgumentParser(prog="bench media_renditions")
    parser.add_argument("--images", type=int, default=50, help="12 MP photos per round (default 50)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each, alternating (default 3)")
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
    print(describe(images=args.images, rounds=args.rounds, megapixels=12, renditions_per_image=PER_IMAGE,
                   workers=2, media_channel_presets=PRESETS))
    print(f"generated {args.images + 1} photos in {time.perf_counter() - started:.0f}s "
          f"({Path(paths[0]).stat().st_size / 1e6:.1f} MB each)")

    cluster = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=os.environ.copy(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    peaks: dict[int, int] = {}
    aicmo, bare, bare_peak = [], [], 0
    try:
        for number in range(1, args.rounds + 1):
            before = load()
            rate, per_cpu, bare_peak = run_baseline(paths[:-1])
            bare.append((rate, per_cpu))
            print(f"round {number}: bare Pillow {rate:.2f} images/s, {per_cpu:.2f} per CPU second, "
                  f"load {before} -> {load()}")
            before = load()
            aicmo.append(aicmo_round(paths[:-1], cluster.pid, peaks))
            print(f"round {number}: AICMO {aicmo[-1][0]:.2f} images/s, {aicmo[-1][1]:.2f} per CPU second, "
                  f"load {before} -> {load()}")
        library = library_create(name="Latency")
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
    rate, baseline = statistics.median(r for r, _ in aicmo), statistics.median(r for r, _ in bare)
    per_cpu, baseline_per_cpu = statistics.median(c for _, c in aicmo), statistics.median(c for _, c in bare)
    # Per core: wall-clock images/s over the 2 cores, meaningful on an idle machine; per CPU second is
    # what a core gives when the machine is shared (other load takes wall-clock time, not CPU time).
    print(f"median of {args.rounds}: AICMO upload + renditions on 2 workers {rate:.2f} images/s "
          f"({rate / 2:.2f} per core), {per_cpu:.2f} images per CPU second (goal >= 2 per core) | bare Pillow, "
          f"2 processes: {baseline:.2f} images/s ({baseline / 2:.2f} per core), {baseline_per_cpu:.2f} per CPU "
          f"second | ratio {rate / baseline:.2f} by the clock, {per_cpu / baseline_per_cpu:.2f} by CPU time")
    print(f"peak memory per worker: {', '.join(f'{kb / 1024:.0f} MB' for kb in workers)} | bare Pillow per "
          f"process: {bare_peak} MB")
    print(f"upload to thumbnail for one photo (worker already running): {to_thumbnail:.2f}s (goal < 2 s)")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0
