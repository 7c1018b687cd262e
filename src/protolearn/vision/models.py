"""Where the model files are and whether they are the ones models/manifest.toml names.

The hashes come from the manifest shipped inside the package, never from the folder being
checked, so a models folder cannot vouch for itself. The server never fetches: a missing or
altered file is an error that says how to get the right one.
"""

from __future__ import annotations

import hashlib
import tomllib
from functools import cache
from pathlib import Path

from protolearn.vision.errors import ModelFilesMissing

__all__ = ("DEFAULT_MODELS_DIR", "MANIFEST_PATH", "model_path", "verify_models")

# The package's models/ (protolearn/vision/models.py -> protolearn/models): a copy in a wheel,
# a link to the repository's models/ in a checkout.
DEFAULT_MODELS_DIR = (Path(__file__).resolve().parents[1] / "models").resolve()
MANIFEST_PATH = DEFAULT_MODELS_DIR / "manifest.toml"

_HINT = (
    "run `python scripts/fetch_models.py` (make run / make test do) in a checkout, "
    "or set PROTOLEARN_MODELS_DIR to a folder holding the files of models/manifest.toml"
)


@cache
def _expected_hashes() -> dict[str, str]:
    try:
        manifest = tomllib.loads(MANIFEST_PATH.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ModelFilesMissing(f"cannot read the package's {MANIFEST_PATH}: {error}") from error
    entries = [*manifest.get("models", []), *manifest.get("converted", []), *manifest.get("bundles", [])]
    return {entry["file"]: entry["sha256"] for entry in entries if "sha256" in entry}


@cache
def model_path(models_dir: Path, file: str) -> Path:
    """The verified path of a model file (hashed once per process; failures are not cached)."""
    path = models_dir / file
    expected = _expected_hashes().get(file)
    if expected is None:
        raise ModelFilesMissing(f"{file} is not listed in {MANIFEST_PATH}")
    if not path.is_file():
        raise ModelFilesMissing(f"model file {path} is missing: {_HINT}")
    if hashlib.sha256(path.read_bytes()).hexdigest() != expected:
        raise ModelFilesMissing(f"model file {path} does not match its sha256 in the manifest: {_HINT}")
    return path


def verify_models(models_dir: Path) -> list[Path]:
    """Every file the manifest lists, verified in ``models_dir``; raises ModelFilesMissing."""
    return [model_path(models_dir, file) for file in _expected_hashes()]
