"""`gategrad playground`: gategrad's engine live in the browser, as a static site to build or serve."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from gategrad.cli.common import CommandError, Parser, output_path

DEFAULT_PORT = 8023


def add(commands: argparse._SubParsersAction[Parser]) -> None:
    playground = commands.add_parser(
        "playground",
        help="backprop live in the browser: build the playground as a static site, or serve it here",
        description=(
            "Without --build, build the playground into a temporary folder, serve it on 127.0.0.1 and open it "
            "in the browser (Ctrl+C stops it). With --build DIR, write the site into DIR: copy that folder to any "
            "static host (a school server, GitHub or Gitee Pages) and it works offline, with nothing to install."
        ),
    )
    playground.add_argument("--build", type=output_path, metavar="DIR", help="write the static site into DIR")
    playground.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"the port to serve on; default: {DEFAULT_PORT}"
    )
    playground.add_argument("--no-browser", action="store_true", help="serve without opening the browser")
    playground.set_defaults(run=run)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"a port is from 1 to 65535, got {port}")
    return port


def run(args: argparse.Namespace) -> int:
    from gategrad.playground import serve

    if args.build is not None:
        _build(args.build)
        print(
            f"Wrote the playground to {args.build}: copy that folder to any static host, "
            "or try it here with: gategrad playground"
        )
        return 0
    with tempfile.TemporaryDirectory(prefix="gategrad-playground-") as folder:
        _build(Path(folder))
        try:
            httpd = serve.server(folder, args.port)
        except OSError as e:
            raise CommandError(f"playground: cannot serve on 127.0.0.1:{args.port}: {e.strerror or e}") from None
        url = f"http://127.0.0.1:{httpd.server_address[1]}/"
        print(f"Serving the playground at {url} (Ctrl+C stops it)", flush=True)
        if not args.no_browser and not serve.open_browser(url):
            print("No browser to open here: open the address above in one.", flush=True)
        with httpd:
            httpd.serve_forever()
    return 0


def _build(folder: Path) -> None:
    from gategrad.playground import build

    if folder.exists() and not folder.is_dir():
        raise CommandError(f"playground: --build {folder} is a file, not a folder")
    try:
        build.build(folder)
    except build.AssetsMissing as e:
        raise CommandError(f"playground: {e}") from None
    except OSError as e:
        raise CommandError(f"playground: cannot write {e.filename or folder}: {e.strerror or e}") from None
