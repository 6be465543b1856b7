"""The tiny offline test image: a static busybox FROM scratch, kept between runs as `aics-test/busybox`."""

from __future__ import annotations

import io
import os
import shutil
import tarfile

BUSYBOX_TAG = "aics-test/busybox:latest"

BUSYBOX_DOCKERFILE = """FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin
LABEL ai-container-studio.test-base=1
CMD ["sleep", "3600"]
"""

# Sleeps for an hour but stops at once on SIGTERM (a bare `sleep` as PID 1 ignores it).
SLEEPER = ("sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait")


def busybox_tar(dockerfile: str) -> bytes:
    """A build context with a static busybox and the given Dockerfile (builds offline FROM scratch)."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(busybox, arcname="busybox")
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def build_busybox(api, tag: str = BUSYBOX_TAG) -> str:
    """Build the image unless `tag` exists; returns the tag."""
    try:
        api.inspect_image(tag)
        return tag
    except Exception:
        pass
    if not os.path.exists(shutil.which("busybox") or "/bin/busybox"):
        raise RuntimeError("busybox is not installed (apt-get install busybox-static; .ci/setup-system does it)")
    for chunk in api.build(fileobj=io.BytesIO(busybox_tar(BUSYBOX_DOCKERFILE)), custom_context=True,
                           tag=tag, rm=True, decode=True):
        if "error" in chunk:
            raise RuntimeError(chunk["error"])
    return tag
