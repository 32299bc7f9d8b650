"""The `gradkit` command: `gradkit lessons [DIR]` copies the lessons and opens JupyterLab."""
import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: gradkit lessons [DIR] [--list] [--no-browser] [--port N]")
        return 0
    if argv[0] == "lessons":
        from .lessons import main as lessons_main
        return lessons_main(argv[1:])
    print(f"gradkit: unknown command {argv[0]!r}; try `gradkit lessons`", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
