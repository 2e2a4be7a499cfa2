"""Data Generator's command line: ``python generate.py --help``."""

from datagen_cli import main

if __name__ == "__main__":
    main()
