"""`python -m builder` runs the same CLI as `newsset`."""

from builder.cli import main

if __name__ == "__main__":
    main()
