"""`python -m replybench`: the same command line as the `replybench` console script."""

from replybench.cli import main

main()
