"""The hook package's size as an application bundles it: minified by esbuild, gzipped.

Bundled from source: the package's entry (`workshop-data-react`, the React adapter and all it
imports: with a framework-free core, core + adapter) and, when the package has one, its core
entry (`workshop-data-react/core`) alone. React and react-dom are always external (the
application has them); `diff` is external in the target's figure (target: core + adapter at
most 8 KiB min+gzip without `diff`), and idb-keyval is shown both external and bundled.

Run: `.venv/bin/python -m bench.hook_size` (part of `make bench`)."""

import gzip
import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

WEB = Path(__file__).resolve().parents[1] / "web"
PACKAGE = WEB / "packages" / "workshop-data-react"
ESBUILD = WEB / "node_modules" / ".bin" / "esbuild"
ALWAYS_EXTERNAL = ("react", "react/*", "react-dom", "react-dom/*")
TARGET_KIB = 8.0


@dataclass(frozen=True)
class Size:
    minified: int
    gzipped: int


def measure(entry: Path, external: tuple[str, ...]) -> Size:
    """`entry` bundled (ESM) and minified by esbuild with `external` left out; gzip level 9."""
    return _bundle(entry, external)[0]


def modules(entry: Path, external: tuple[str, ...]) -> list[tuple[str, int]]:
    """The modules in the bundle and their minified bytes in it, largest first."""
    inputs = _bundle(entry, external)[1]
    return sorted(inputs.items(), key=lambda item: -item[1])


def _bundle(entry: Path, external: tuple[str, ...]) -> tuple[Size, dict[str, int]]:
    if not ESBUILD.exists():
        raise SystemExit(f"{ESBUILD} is missing: run `make web/node_modules/.installed`")
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "bundle.js"
        meta = Path(scratch) / "meta.json"
        subprocess.run(
            [
                str(ESBUILD),
                str(entry),
                "--bundle",
                "--minify",
                "--format=esm",
                "--log-level=warning",
                *(f"--external:{name}" for name in external),
                f"--outfile={out}",
                f"--metafile={meta}",
            ],
            cwd=WEB,
            check=True,
            capture_output=True,
        )
        raw = out.read_bytes()
        output = next(iter(json.loads(meta.read_text())["outputs"].values()))
    inputs = {name: used["bytesInOutput"] for name, used in output["inputs"].items()}
    return Size(minified=len(raw), gzipped=len(gzip.compress(raw, 9))), inputs


def _source_of(export_path: str) -> Path:
    """The source file of a built export (`./dist/core/index.js` → `src/core/index.ts`)."""
    relative = Path(export_path.removeprefix("./"))
    parts = ("src", *relative.parts[1:]) if relative.parts[0] == "dist" else relative.parts
    return (PACKAGE.joinpath(*parts)).with_suffix(".ts")


def core_entry() -> Path | None:
    """The source of `workshop-data-react/core`, or None while the package has no such entry."""
    exports = json.loads((PACKAGE / "package.json").read_text()).get("exports", {})
    declared = exports.get("./core")
    if isinstance(declared, dict):
        declared = declared.get("import") or declared.get("default")
    if isinstance(declared, str) and _source_of(declared).exists():
        return _source_of(declared)
    fallback = PACKAGE / "src" / "core" / "index.ts"
    return fallback if fallback.exists() else None


def kib(size: int) -> str:
    return f"{size / 1024:.1f} KiB"


def main() -> None:
    entries = [("workshop-data-react (core + adapter)", PACKAGE / "src" / "index.ts")]
    core = core_entry()
    if core is not None:
        entries.append(("workshop-data-react/core", core))
    print("### The hook's size (esbuild --bundle --minify, gzip -9)\n")
    print("| entry | bundled with it | minified | min+gzip |")
    print("| --- | --- | ---: | ---: |")
    target: Size | None = None
    for name, entry in entries:
        for bundled, external in (
            ("nothing (idb-keyval, diff external)", ("idb-keyval", "diff")),
            ("idb-keyval (diff external)", ("diff",)),
            ("idb-keyval and diff", ()),
        ):
            size = measure(entry, ALWAYS_EXTERNAL + external)
            if entry == entries[0][1] and external == ("diff",):
                target = size
            print(f"| {name} | {bundled} | {kib(size.minified)} | {kib(size.gzipped)} |")
    if core is None:
        print("\n(no `workshop-data-react/core` entry in this tree)")
    assert target is not None
    print("\nWhere the minified bytes of core + adapter go (idb-keyval bundled, diff external):\n")
    for name, module_bytes in modules(entries[0][1], (*ALWAYS_EXTERNAL, "diff"))[:8]:
        print(f"- {name.removeprefix('packages/workshop-data-react/')}: {kib(module_bytes)}")
    verdict = "met" if target.gzipped / 1024 <= TARGET_KIB else "not met"
    print(
        f"\nTarget (core + adapter, idb-keyval bundled, without diff, ≤ {TARGET_KIB:.0f} KiB "
        f"min+gzip): {kib(target.gzipped)}, {verdict}."
    )


if __name__ == "__main__":
    main()
