from critmin.cli.app import main

main()
