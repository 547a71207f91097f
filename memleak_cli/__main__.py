from memleak_cli.cli.app import main

main()
