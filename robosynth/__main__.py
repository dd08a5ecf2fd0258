"""``python -m robosynth``: the same as the ``robosynth`` command."""

from robosynth.cli import main

if __name__ == "__main__":
    main()
