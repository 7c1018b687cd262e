"""Where the model files are and whether they are the ones models/manifest.toml names.

The server never fetches: a missing or altered file is an error that says how to fetch it.
"""

from __future__ import annotations

import hashlib
import tomllib
from functools import cache
from pathlib import Path

from protolearn.vision.errors import ModelFilesMissing

__all__ = ("DEFAULT_MODELS_DIR", "model_path")

# The repository's models/ (src/protolearn/vision/models.py -> ../../../models).
DEFAULT_MODELS_DIR = Path(__file__).resolve().parents[3] / "models"


@cache
def _expected_hashes(models_dir: Path) -> dict[str, str]:
    manifest_path = models_dir / "manifest.toml"
    try:
        manifest = tomllib.loads(manifest_path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ModelFilesMissing(f"cannot read {manifest_path}: {error}") from error
    entries = [*manifest.get("models", []), *manifest.get("converted", []), *manifest.get("bundles", [])]
    return {entry["file"]: entry["sha256"] for entry in entries if "sha256" in entry}


@cache
def model_path(models_dir: Path, file: str) -> Path:
    """The verified path of a model file (hashed once per process)."""
    path = models_dir / file
    expected = _expected_hashes(models_dir).get(file)
    if expected is None:
        raise ModelFilesMissing(f"{file} is not listed in {models_dir / 'manifest.toml'}")
    hint = "run `python scripts/fetch_models.py` (make run / make test do)"
    if not path.is_file():
        raise ModelFilesMissing(f"model file {path} is missing: {hint}")
    if hashlib.sha256(path.read_bytes()).hexdigest() != expected:
        raise ModelFilesMissing(f"model file {path} does not match its sha256 in the manifest: {hint}")
    return path
