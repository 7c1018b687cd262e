"""Re-fetch and verify the vendored browser builds (web/vendor/, tests/support/vendor/).

Each manifest lists packages of the npm registry at pinned versions and the one file taken from
each package's tarball. ``--check`` verifies the committed files against their sha256 without a
network; without it, every package is fetched again with ``npm pack NAME@VERSION``, its file
written under a versioned name, its hash recorded, and the import map of web/index.html
rewritten to point at the files. Editing a version in a manifest and running this script is how
a dependency of the web app is upgraded.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = (
    ROOT / "web" / "vendor" / "manifest.json",
    ROOT / "tests" / "support" / "vendor" / "manifest.json",
)
INDEX = ROOT / "web" / "index.html"
IMPORT_MAP = re.compile(r'(<script type="importmap">)(.*?)(</script>)', re.DOTALL)


def vendored_name(package: dict[str, str]) -> str:
    """``vue`` 3.5.45 ``dist/vue.esm-browser.prod.js`` → ``vue-3.5.45.esm-browser.prod.js``."""
    stem = Path(package["member"]).name
    base = package["name"].rsplit("/", 1)[-1]
    suffix = stem[len(base) :] if stem.startswith(base) else "." + stem
    return f"{base}-{package['version']}{suffix}"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(package: dict[str, str], folder: Path) -> None:
    spec = f"{package['name']}@{package['version']}"
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(  # noqa: S603 - a fixed program, arguments from our own manifest
            ["npm", "pack", spec, "--silent", "--pack-destination", scratch],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"npm pack {spec} failed: {done.stderr.strip()}")
        tarball = Path(scratch) / done.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball) as archive:
            member = archive.extractfile(f"package/{package['member']}")
            if member is None:
                raise SystemExit(f"{spec} has no {package['member']}")
            content = member.read()
    for old in folder.glob(f"{package['name'].rsplit('/', 1)[-1]}-*"):
        old.unlink()
    target = folder / vendored_name(package)
    target.write_bytes(content)
    package["file"] = target.name
    package["sha256"] = hashlib.sha256(content).hexdigest()
    print(f"{spec}: {target.relative_to(ROOT)} {len(content) / 1024:.0f} KB sha256 {package['sha256']}")


def write_import_map(packages: list[dict[str, str]]) -> None:
    imports = {p["import"]: f"/web/vendor/{p['file']}" for p in packages if p.get("import")}
    page = INDEX.read_text()
    body = json.dumps({"imports": imports}, separators=(",", ":"))
    INDEX.write_text(IMPORT_MAP.sub(lambda m: m.group(1) + body + m.group(3), page, count=1))


def check(manifest: Path) -> list[str]:
    problems = []
    for package in json.loads(manifest.read_text())["packages"]:
        path = manifest.parent / package["file"]
        if not path.is_file():
            problems.append(f"{path.relative_to(ROOT)} is missing")
        elif sha256(path) != package["sha256"]:
            problems.append(f"{path.relative_to(ROOT)} does not match its sha256 in {manifest.name}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the files only, no network")
    args = parser.parse_args()
    if args.check:
        problems = [problem for manifest in MANIFESTS for problem in check(manifest)]
        for problem in problems:
            print(problem, file=sys.stderr)
        print("vendored files verified" if not problems else f"{len(problems)} problem(s)")
        return 1 if problems else 0
    for manifest in MANIFESTS:
        document = json.loads(manifest.read_text())
        for package in document["packages"]:
            fetch(package, manifest.parent)
        manifest.write_text(json.dumps(document, indent=2) + "\n")
        if manifest.parent == ROOT / "web" / "vendor":
            write_import_map(document["packages"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
