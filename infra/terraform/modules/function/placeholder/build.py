"""Build (or --check) placeholder.zip from src/: the code every function starts from when the
sumu module is given no lambda_packages. Entries are sorted and dated 1980-01-01 so that the zip
only changes when the source does; --check compares names and contents, what Lambda runs."""

import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ZIP = HERE / "placeholder.zip"


def sources() -> dict[str, bytes]:
    return {
        path.relative_to(HERE / "src").as_posix(): path.read_bytes()
        for path in sorted((HERE / "src").rglob("*.py"))
    }


def build() -> None:
    with zipfile.ZipFile(ZIP, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sources().items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)


def check() -> int:
    with zipfile.ZipFile(ZIP) as archive:
        shipped = {name: archive.read(name) for name in archive.namelist()}
    if shipped != sources():
        print(
            f"placeholder: {ZIP} is out of date; run python3 {Path(__file__).name}", file=sys.stderr
        )
        return 1
    print(f"placeholder: {ZIP.name} matches src/ ({len(shipped)} files)")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        sys.exit(check())
    build()
