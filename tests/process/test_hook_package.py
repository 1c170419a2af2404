"""The hook as another React app gets it: `npm pack` of web/packages/workshop-data-react,
installed into a minimal Vite app outside the web app (tests/hook_package), which must pass
`tsc --strict` and `vite build` with the hook in its bundle.

Works offline: the scratch app's committed lockfile is installed from npm's cache (`make test`
has installed the web app, whose lockfile holds the same versions)."""

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

pytestmark = pytest.mark.process

PACKAGE = REPO_ROOT / "web" / "packages" / "workshop-data-react"
SCRATCH_APP = REPO_ROOT / "tests" / "hook_package"
NPM = shutil.which("npm")
NPM_OFFLINE = ["--prefer-offline", "--no-audit", "--no-fund"]


def _run(args: list[str], cwd: Path, timeout: float = 120) -> str:
    result = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if NPM is None:
        pytest.fail("npm is not installed")
    if not (REPO_ROOT / "web" / "node_modules" / "typescript").exists():
        pytest.fail("web/node_modules is not installed (make web/node_modules/.installed)")
    destination = tmp_path_factory.mktemp("pack")
    # prepack builds dist/ with tsc first, as a publish would.
    out = _run([NPM, "pack", "--json", "--pack-destination", str(destination)], PACKAGE)
    (packed,) = json.loads(out)
    filename: str = packed["filename"]
    return destination / filename


def test_the_tarball_holds_the_build_only(tarball: Path) -> None:
    with tarfile.open(tarball) as archive:
        names = sorted(archive.getnames())
        manifest = json.load(archive.extractfile("package/package.json"))  # type: ignore[arg-type]
    assert "package/dist/index.js" in names
    assert "package/dist/index.d.ts" in names
    assert "package/dist/core/index.js" in names
    assert "package/dist/core/index.d.ts" in names
    assert all(name == "package/package.json" or name.startswith("package/dist/") for name in names)
    sources = [n for n in names if n.endswith((".ts", ".tsx")) and not n.endswith(".d.ts")]
    assert sources == [], "TypeScript sources in the package"
    assert not [n for n in names if ".test." in n or "/testing/" in n]

    assert manifest["name"] == "workshop-data-react"
    assert manifest["type"] == "module"
    assert manifest["sideEffects"] is False
    assert manifest["files"] == ["dist"]
    assert manifest["exports"]["."] == {"types": "./dist/index.d.ts", "import": "./dist/index.js"}
    assert manifest["exports"]["./core"] == {
        "types": "./dist/core/index.d.ts",
        "import": "./dist/core/index.js",
    }
    assert manifest["peerDependencies"] == {"react": "^18.0.0 || ^19.0.0"}
    assert "react" not in manifest.get("dependencies", {})


def test_a_react_app_outside_the_repo_installs_type_checks_and_builds_it(
    tarball: Path, tmp_path: Path
) -> None:
    assert NPM is not None
    app = tmp_path / "app"
    shutil.copytree(SCRATCH_APP, app, ignore=shutil.ignore_patterns("node_modules", "dist"))
    _run([NPM, "ci", *NPM_OFFLINE], app)
    # npm checks a new dependency's peers against the registry's metadata, which an offline
    # cache need not hold: react is installed from the lockfile already, and the peer range is
    # checked from the packed package.json above.
    _run([NPM, "install", "--no-save", "--legacy-peer-deps", *NPM_OFFLINE, str(tarball)], app)
    installed = app / "node_modules" / "workshop-data-react"
    assert not installed.is_symlink()
    assert (installed / "dist" / "index.js").exists()

    # Plain JavaScript: a runtime or bundler that does not compile TypeScript can load it.
    node = shutil.which("node")
    assert node is not None
    exported = _run(
        [
            node,
            "--input-type=module",
            "--eval",
            "const hook = await import('workshop-data-react');"
            "console.log(Object.keys(hook).sort().join(' '));",
        ],
        app,
    ).split()
    assert {"useWorkshopStepData", "WorkshopDataProvider", "resumeAfterSignIn"} <= set(exported)
    # The framework-free core, its own entry point: it loads without React.
    core = _run(
        [
            node,
            "--input-type=module",
            "--eval",
            "const core = await import('workshop-data-react/core');"
            "console.log(Object.keys(core).sort().join(' '));",
        ],
        app,
    ).split()
    assert {"SyncLoop", "reduce", "httpPerformers", "memoryWorkStore", "pendingSummary"} <= set(
        core
    )
    assert "useWorkshopStepData" not in core

    _run([NPM, "run", "typecheck"], app)  # tsc --strict, as in the app's tsconfig.json
    _run([NPM, "run", "build"], app)

    bundles = list((app / "dist" / "assets").glob("*.js"))
    assert len(bundles) == 1
    bundle = bundles[0].read_text()
    assert "function useWorkshopStepData" in bundle
    assert "function resumeAfterSignIn" in bundle
    assert "/api/workshop-data/step" in bundle
    assert "workshop-data:journal:" in bundle
