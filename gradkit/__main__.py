"""The `gradkit` command.

    gradkit lessons [DIR] [options]   copy the lessons (learner edition) and open JupyterLab
    gradkit --version
"""
import sys

USAGE = """usage: gradkit [--help] [--version] COMMAND

commands:
  lessons [DIR]     copy the lesson notebooks into DIR (default ./gradkit-lessons), learner
                    edition (blank predictions), and open JupyterLab there
      --list          print the course and exit
      --teacher       copy the teacher edition (answers filled in, every output stored)
      --no-launch     copy only, do not start JupyterLab
      --force         overwrite copies you edited (otherwise the fresh one is NN-….new.ipynb)
      --no-browser    start JupyterLab without opening a browser
      --port N        JupyterLab's port

options:
  -h, --help        show this help
  -V, --version     print gradkit's version

`gradkit lessons --help` describes the lessons command."""


def version():
    from importlib import metadata
    try:
        return metadata.version("gradkit")
    except metadata.PackageNotFoundError:      # run from a source tree that was never installed
        import tomllib
        import pathlib
        pyproject = pathlib.Path(__file__).resolve().parent.parent / "pyproject.toml"
        return tomllib.loads(pyproject.read_text())["project"]["version"]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    if argv[0] in ("-V", "--version"):
        print(f"gradkit {version()}")
        return 0
    if argv[0] == "lessons":
        from .lessons import main as lessons_main
        return lessons_main(argv[1:])
    print(f"gradkit: unknown command {argv[0]!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
