"""Generate the Python gRPC stubs from proto/ into gen/ (never committed).

Regenerates only when a .proto file is newer than the stamp, so every entry
command can depend on it cheaply. Usage: python scripts/gen_proto.py [--force]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto"
OUT = ROOT / "gen"
STAMP = OUT / ".stamp"


def needs_build(protos: list[Path]) -> bool:
    if not STAMP.exists():
        return True
    built = STAMP.stat().st_mtime
    return any(p.stat().st_mtime > built for p in protos)


def main(argv: list[str]) -> int:
    from grpc_tools import protoc

    protos = sorted(PROTO.rglob("*.proto"))
    if "--force" not in argv and not needs_build(protos):
        return 0
    OUT.mkdir(exist_ok=True)
    args = [
        "protoc",
        f"-I{PROTO}",
        f"--python_out={OUT}",
        f"--pyi_out={OUT}",
        f"--grpc_python_out={OUT}",
        *[str(p.relative_to(PROTO)) for p in protos],
    ]
    if protoc.main(args) != 0:
        print("protoc failed", file=sys.stderr)
        return 1
    # Regular packages (not namespace ones) so mypy and tools find them.
    for folder in [OUT / "zhiyuan", *(OUT / "zhiyuan").rglob("*")]:
        if folder.is_dir():
            (folder / "__init__.py").touch()
    STAMP.touch()
    print(f"generated stubs for {len(protos)} proto files into {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
