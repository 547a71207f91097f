from memleak_cli.commands.app import main

main()
