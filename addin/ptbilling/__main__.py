from .cli import main as cli

cli.EXIT_FAST = True  # this process ends when main returns
cli.exit_process(cli.main())
